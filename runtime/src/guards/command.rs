//! OS command injection (CWE-78).
//!
//! Two layers. A string that feeds a command is refused if it holds any shell
//! metacharacter, and only an allowlisted value maps to a fixed argv flag: the
//! caller's string never becomes an argument. Then the command runs by argv,
//! with no shell, its input on stdin, under a timeout and an output bound, so
//! even a bypassed check has no shell to break out of.

use crate::reject::{Gate, Reject};

/// Characters a shell gives meaning to.
pub const METACHARACTERS: &[char] = &[
    ';', '&', '|', '`', '$', '(', ')', '<', '>', '\\', '\'', '"', '\n', '\r', '*', '?', '[', ']',
    '{', '}', '~', '!', '#', '%', '^', '=', ',', ' ', '\t', '\0',
];

/// Refuses a string holding any shell metacharacter, naming the first.
pub fn check_metacharacters(
    field: impl Into<std::borrow::Cow<'static, str>>,
    value: &str,
) -> Result<(), Reject> {
    match value
        .chars()
        .find(|c| METACHARACTERS.contains(c) || c.is_control())
    {
        None => Ok(()),
        Some(c) => {
            let field = field.into();
            let reason = format!(
                "blocked by command-injection guard: {field} contains forbidden shell metacharacter {c:?}"
            );
            Err(Reject::at(Gate::Command, Some(field), reason).with_text(value))
        }
    }
}

#[cfg(feature = "process")]
#[cfg_attr(docsrs, doc(cfg(feature = "process")))]
pub use runner::{Limits, run};

#[cfg(feature = "process")]
mod runner {
    use std::process::Stdio;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::reject::{Gate, Reject};

    /// Limits on one command run.
    #[derive(Debug, Clone, Copy)]
    pub struct Limits {
        /// Wall-clock time before the process is killed.
        pub timeout: Duration,
        /// The most bytes of stdout kept; more is a refusal, not a truncation.
        pub max_output: usize,
    }

    impl Default for Limits {
        fn default() -> Self {
            Self {
                timeout: Duration::from_secs(5),
                max_output: 64 * 1024,
            }
        }
    }

    fn failed(reason: impl Into<std::borrow::Cow<'static, str>>) -> Reject {
        Reject::at(Gate::Execute, None, reason)
    }

    /// Runs `program` with fixed `args` and `stdin`, without a shell.
    pub async fn run(
        program: &str,
        args: &[&str],
        stdin: &[u8],
        limits: Limits,
    ) -> Result<String, Reject> {
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(format!("cannot start {program}: {}", e.kind())))?;
        let mut input = child.stdin.take().ok_or_else(|| failed("no stdin"))?;
        let mut output = child.stdout.take().ok_or_else(|| failed("no stdout"))?;
        let stdin = stdin.to_vec();
        let work = async move {
            let writer = async move {
                // A child that exits early closes its stdin; that is not our failure.
                let _ = input.write_all(&stdin).await;
                drop(input);
            };
            let reader = async move {
                let mut buf = Vec::new();
                (&mut output)
                    .take(limits.max_output as u64 + 1)
                    .read_to_end(&mut buf)
                    .await
                    .map(|_| buf)
            };
            let ((), read) = tokio::join!(writer, reader);
            read
        };
        let buf = match tokio::time::timeout(limits.timeout, work).await {
            Err(_) => {
                return Err(failed(format!(
                    "{program} exceeded {} ms",
                    limits.timeout.as_millis()
                )));
            }
            Ok(Err(e)) => return Err(failed(format!("reading {program}'s output: {}", e.kind()))),
            Ok(Ok(buf)) => buf,
        };
        if buf.len() > limits.max_output {
            return Err(failed(format!(
                "{program} wrote more than {} bytes",
                limits.max_output
            )));
        }
        let status = tokio::time::timeout(limits.timeout, child.wait())
            .await
            .map_err(|_| failed(format!("{program} did not exit")))?
            .map_err(|e| failed(format!("waiting for {program}: {}", e.kind())))?;
        if !status.success() {
            return Err(failed(format!("{program} failed")));
        }
        String::from_utf8(buf).map_err(|_| failed(format!("{program} wrote invalid UTF-8")))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[tokio::test]
        async fn runs_by_argv_with_stdin() {
            let out = run(
                "wc",
                &["-w"],
                b"the quick brown fox jumps",
                Limits::default(),
            )
            .await
            .unwrap();
            assert_eq!(out.trim(), "5");
            // An argument is an argument: no shell ever sees it.
            let out = run("echo", &["$(id); echo pwned"], b"", Limits::default())
                .await
                .unwrap();
            assert_eq!(out, "$(id); echo pwned\n");
        }

        #[tokio::test]
        async fn bounds_output_and_time() {
            let limits = Limits {
                timeout: Duration::from_secs(5),
                max_output: 10,
            };
            let err = run("cat", &[], &[b'x'; 1000], limits).await.unwrap_err();
            assert!(err.reason().contains("more than 10 bytes"), "{err}");
            let limits = Limits {
                timeout: Duration::from_millis(200),
                max_output: 10,
            };
            let err = run("sleep", &["5"], b"", limits).await.unwrap_err();
            assert!(err.reason().contains("exceeded"), "{err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metacharacters_are_named() {
        assert!(check_metacharacters("format", "words").is_ok());
        let reject = check_metacharacters("format", "words; rm -rf ~").unwrap_err();
        assert_eq!(reject.gate(), Gate::Command);
        assert_eq!(
            reject.reason(),
            "blocked by command-injection guard: format contains forbidden shell metacharacter ';'"
        );
        for bad in ["$(id)", "`id`", "a|b", "a&&b", "a>b", "a\nb", "-w x", "\\x"] {
            assert!(check_metacharacters("format", bad).is_err(), "{bad:?}");
        }
    }
}
