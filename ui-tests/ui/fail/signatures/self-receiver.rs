use secure_tool::{Reject, secure_tool};

struct Calculator;

impl Calculator {
    /// Doubles.
    #[secure_tool(public, max = 1e6)]
    fn double(&self, a: f64) -> Result<f64, Reject> {
        Ok(a * 2.0)
    }
}

fn main() {
    let _ = Calculator.double(1.0);
}
