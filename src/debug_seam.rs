//! The one debug seam: `GROUPMAP_TEST_FAIL_AFTER_DRAW=panic|error` makes the editor fail on
//! purpose once its first ready frame is drawn, so that the terminal-restoration test can check a
//! panic and an error exit. Read once, at start; unset in normal use.

const VAR: &str = "GROUPMAP_TEST_FAIL_AFTER_DRAW";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailAfterDraw {
    Panic,
    Error,
}

impl FailAfterDraw {
    pub fn from_env() -> Option<FailAfterDraw> {
        match std::env::var(VAR).ok()?.as_str() {
            "panic" => Some(FailAfterDraw::Panic),
            "error" => Some(FailAfterDraw::Error),
            _ => None,
        }
    }

    pub fn fail(self) -> anyhow::Result<()> {
        match self {
            FailAfterDraw::Panic => panic!("test hook: {VAR}=panic"),
            FailAfterDraw::Error => anyhow::bail!("test hook: {VAR}=error"),
        }
    }
}
