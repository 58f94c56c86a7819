//! The binary checks its configuration before it touches the database.

use std::process::Command;

#[test]
fn a_missing_jwt_setting_fails_before_any_database_file_exists() {
    let dir = std::env::temp_dir().join(format!("template-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("template.db");
    let output = Command::new(env!("CARGO_BIN_EXE_template-server"))
        .env_remove("TEMPLATE_JWT_ISSUER")
        .env_remove("TEMPLATE_JWT_SECRET")
        .env_remove("TEMPLATE_JWT_KEY_FILE")
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("TEMPLATE_JWT_ISSUER is not set"),
        "{stderr}"
    );
    assert!(!db.exists(), "the database file was created");
    std::fs::remove_dir_all(&dir).unwrap();
}
