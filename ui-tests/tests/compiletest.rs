#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/**/*.rs");
    t.compile_fail("ui/fail/**/*.rs");
}
