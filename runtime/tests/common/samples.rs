//! Fabricated secrets, one sample and one near miss per kind, shared by the
//! redaction tests and the redaction fuzz target.

/// (kind, text holding a secret of that kind, a near miss that must stay).
pub const SAMPLES: &[(&str, &str, &str)] = &[
    (
        "private_key",
        "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
    ),
    (
        "jwt",
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "eyJhbGciOiJIUzI1NiJ9 alone is just a header",
    ),
    (
        "aws_access_key",
        "aws AKIAIOSFODNN7EXAMPLE here",
        "AKIA-IOSFODNN7EXAMPLE is split",
    ),
    (
        "aws_secret_key",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "aws_secret_access_key = (set in the vault)",
    ),
    (
        "gcp_api_key",
        "key=AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "AIza is a prefix, AIzaShort",
    ),
    (
        "gcp_service_account_key",
        r#"{"private_key_id": "0123456789abcdef0123456789abcdef01234567"}"#,
        r#"{"private_key_id": "see-console"}"#,
    ),
    (
        "google_oauth_client_secret",
        "GOCSPX-abcdefghijklmnopqrstuvwxyz12",
        "GOCSPX-short",
    ),
    (
        "azure_connection_string",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5c2VjcmV0a2V5c2VjcmV0a2V5==;EndpointSuffix=core.windows.net",
        "DefaultEndpointsProtocol=https;AccountName=acct",
    ),
    (
        "azure_storage_key",
        concat!(
            "AccountKey=",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwx=="
        ),
        "AccountKey=tooShort==",
    ),
    (
        "azure_sas_token",
        "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig=abcdefghijklmnopqrstuvwxyz0123456789ABCD%3D",
        "sv=2022-11-02&ss=b only",
    ),
    (
        "digitalocean_token",
        "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "dop_v1_0123",
    ),
    (
        "databricks_token",
        "dapi0123456789abcdef0123456789abcdef",
        "dapi is an api prefix",
    ),
    (
        "github_fine_grained_token",
        "github_pat_11ABCDEFG0123456789012_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        "github_pat_short",
    ),
    (
        "github_token",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_tooShort123",
    ),
    ("gitlab_token", "glpat-abcdefghij0123456789", "glpat-short"),
    (
        "npm_token",
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "npm_install is a word",
    ),
    (
        "pypi_token",
        "pypi-AgEIcHlwaS5vcmcCJDEyMzQ1Njc4LTEyMzQtMTIzNC0xMjM0LTEyMzQ1Njc4OTBhYgACKlsz",
        "pypi-package-name",
    ),
    (
        "huggingface_token",
        "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "hf_short",
    ),
    (
        "slack_webhook",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "https://hooks.slack.com/",
    ),
    (
        "slack_app_token",
        "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef0123456789abcdef",
        "xapp-1-short",
    ),
    (
        "slack_bot_token",
        "xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx",
        "xoxb-123",
    ),
    (
        "slack_token",
        "xoxp-1234567890-1234567890-abcdef",
        "xox-not-a-token",
    ),
    (
        "discord_webhook",
        "https://discord.com/api/webhooks/123456789012345678/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab",
        "https://discord.com/api/webhooks/",
    ),
    (
        "telegram_bot_token",
        "123456789:AAabcdefghijklmnopqrstuvwxyz0123456",
        "123456789:BBshort",
    ),
    (
        "stripe_secret_key",
        "sk_live_abcdefghijklmnopqrstuvwx",
        "sk_live_short",
    ),
    (
        "stripe_restricted_key",
        "rk_test_abcdefghijklmnopqrstuvwx",
        "rk_test_short",
    ),
    (
        "stripe_webhook_secret",
        "whsec_abcdefghijklmnopqrstuvwxyz012345",
        "whsec_short",
    ),
    (
        "sendgrid_api_key",
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ",
        "SG.short.token",
    ),
    (
        "twilio_api_key",
        "SK0123456789abcdef0123456789abcdef",
        "SKU-12345",
    ),
    (
        "mailgun_api_key",
        "key-0123456789abcdefghijklmnopqrstuv",
        "key-value pairs",
    ),
    (
        "shopify_token",
        "shpat_0123456789abcdef0123456789abcdef",
        "shpat_short",
    ),
    (
        "square_token",
        "sq0csp-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "sq0csp-short",
    ),
    (
        "anthropic_api_key",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
        "sk-ant-short",
    ),
    (
        "openai_api_key",
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN",
        "sk-proj-short",
    ),
    (
        "age_secret_key",
        "AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE",
        "AGE-SECRET-KEY-1",
    ),
    (
        "postgres_connection_string",
        "db postgres://app:s3cr3t@db:5432/appdb",
        "postgres://db:5432/appdb without credentials",
    ),
    (
        "mysql_connection_string",
        "mysql://root:hunter2@10.0.0.5/shop",
        "mysql://10.0.0.5/shop",
    ),
    (
        "mongodb_connection_string",
        "mongodb+srv://svc:pa55w0rd@cluster0.example.net/db",
        "mongodb+srv://cluster0.example.net/db",
    ),
    (
        "redis_connection_string",
        "rediss://:topsecret@cache:6380/0",
        "redis://cache:6379/0",
    ),
    (
        "amqp_connection_string",
        "amqps://guest:guest2@mq.local/vhost",
        "amqp://mq.local/vhost",
    ),
    (
        "url_credentials",
        "fetch ftp://alice:wonderland@files.example.com/x",
        "https://example.com/@home",
    ),
    (
        "bearer_token",
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
        "a bearer of good news",
    ),
    (
        "basic_auth",
        "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l",
        "Authorization: none",
    ),
    (
        "api_key_assignment",
        "api_key=0123456789abcdef",
        "the api_key field is documented below",
    ),
    (
        "password_assignment",
        "password: hunter22",
        "password reset link sent",
    ),
];
