//! Secret redaction for text leaving the server: tool output, error messages
//! and audit records.
//!
//! Every kind is one alternative of a single regex, so a text is scanned once
//! for all kinds; the capture group that matched names the kind. Each match
//! becomes `[REDACTED:<kind>]` and one finding.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

/// Text with its secrets replaced by `[REDACTED:<kind>]`, and one finding per redaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The redacted text.
    pub text: String,
    /// One `secret:redacted <kind>` entry per redaction, in order of appearance.
    pub findings: Vec<String>,
}

/// Every secret kind the redactor knows, as `(kind, pattern)`. Order matters
/// where two kinds can match at the same place: the more specific comes first.
pub const KINDS: &[(&str, &str)] = &[
    // Keys and blocks with unmistakable framing.
    (
        "private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
    ),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
    ),
    // Cloud providers.
    ("aws_access_key", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"),
    (
        "aws_secret_key",
        r#"(?i)\baws_?secret_?(?:access_?)?key\b(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[A-Za-z0-9/+]{40}"#,
    ),
    ("gcp_api_key", r"\bAIza[0-9A-Za-z_-]{35}"),
    (
        "gcp_service_account_key",
        r#"\\?"private_key_id\\?"\s*:\s*\\?"[0-9a-f]{40}\\?""#,
    ),
    ("google_oauth_client_secret", r"\bGOCSPX-[A-Za-z0-9_-]{28}"),
    (
        "azure_connection_string",
        r"(?i)\bDefaultEndpointsProtocol=https?;AccountName=[^;\s]+;AccountKey=[A-Za-z0-9+/=]{20,}(?:;EndpointSuffix=[^;\s]+)?",
    ),
    ("azure_storage_key", r"(?i)\bAccountKey=[A-Za-z0-9+/]{86}=="),
    (
        "azure_sas_token",
        r"\bsv=\d{4}-\d{2}-\d{2}&[^\s]*?\bsig=[A-Za-z0-9%+/]{20,}={0,2}",
    ),
    ("digitalocean_token", r"\bdo[por]_v1_[a-f0-9]{64}"),
    ("databricks_token", r"\bdapi[a-f0-9]{32}"),
    // Source hosting and package registries.
    (
        "github_fine_grained_token",
        r"\bgithub_pat_[A-Za-z0-9_]{82}",
    ),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,76}"),
    (
        "gitlab_token",
        r"\bgl(?:pat|rt|dt|ptt|soat)-[A-Za-z0-9_-]{20,}",
    ),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}"),
    ("pypi_token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{34,}"),
    // Messaging and SaaS.
    (
        "slack_webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}",
    ),
    ("slack_app_token", r"\bxapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{32,}"),
    (
        "slack_bot_token",
        r"\bxoxb-[0-9]{8,13}-[0-9]{8,13}-[A-Za-z0-9]{20,}",
    ),
    ("slack_token", r"\bxox[aposr]-[0-9A-Za-z-]{10,}"),
    (
        "discord_webhook",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{40,}",
    ),
    ("telegram_bot_token", r"\b\d{8,10}:AA[0-9A-Za-z_-]{33}"),
    ("stripe_secret_key", r"\bsk_(?:live|test)_[0-9A-Za-z]{24,}"),
    (
        "stripe_restricted_key",
        r"\brk_(?:live|test)_[0-9A-Za-z]{24,}",
    ),
    ("stripe_webhook_secret", r"\bwhsec_[0-9A-Za-z]{32,}"),
    (
        "sendgrid_api_key",
        r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
    ),
    ("twilio_api_key", r"\bSK[0-9a-fA-F]{32}"),
    ("mailgun_api_key", r"\bkey-[0-9a-zA-Z]{32}"),
    ("shopify_token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("square_token", r"\bsq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}"),
    // AI providers.
    (
        "anthropic_api_key",
        r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{32,}",
    ),
    (
        "openai_api_key",
        r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
    ),
    (
        "age_secret_key",
        r"\bAGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b",
    ),
    // Kinds found by gitleaks-style provider rules and generic shapes.
    (
        "onepassword_secret_key",
        r#"\bA3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"#,
    ),
    (
        "onepassword_service_account_token",
        r#"\bops_eyJ[A-Za-z0-9+/]{250,}={0,3}"#,
    ),
    ("vault_service_token", r#"\bhvs\.[A-Za-z0-9_-]{90,120}"#),
    ("vault_batch_token", r#"\bhvb\.[A-Za-z0-9_-]{138,300}"#),
    ("doppler_token", r#"\bdp\.pt\.[A-Za-z0-9]{43}"#),
    (
        "age_identity_plugin",
        r#"\bAGE-PLUGIN-[A-Z0-9]+-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{40,}\b"#,
    ),
    (
        "tailscale_key",
        r#"\btskey-(?:api|auth|client|webhook)-[A-Za-z0-9]{8,}-[A-Za-z0-9]{20,}"#,
    ),
    (
        "okta_api_token",
        r#"(?i)\bokta[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?00[A-Za-z0-9_-]{40}"#,
    ),
    (
        "azure_ad_client_secret",
        r#"\b[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}"#,
    ),
    ("alibaba_access_key_id", r#"\bLTAI[A-Za-z0-9]{20}"#),
    (
        "alibaba_secret_key",
        r#"(?i)\b(?:alibaba|aliyun)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{30})\b"#,
    ),
    (
        "aws_bedrock_api_key",
        r#"\bABSK[A-Za-z0-9+/]{109,269}={0,2}"#,
    ),
    (
        "aws_session_token",
        r#"(?i)\baws_?session_?token(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[A-Za-z0-9/+=]{100,}"#,
    ),
    (
        "cloudflare_origin_ca_key",
        r#"\bv1\.0-[a-f0-9]{24}-[a-f0-9]{146}"#,
    ),
    (
        "cloudflare_api_token",
        r#"(?i)\b(?:cloudflare|cf_api)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9_-]{40})\b"#,
    ),
    (
        "cloudflare_global_api_key",
        r#"(?i)\b(?:cloudflare_global|cf_global)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{37})\b"#,
    ),
    ("digitalocean_spaces_key", r#"\bDO00[A-Z0-9]{16}"#),
    (
        "flyio_token",
        r#"\bfo1_[A-Za-z0-9_-]{43}|\bfm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3}"#,
    ),
    (
        "hashicorp_terraform_token",
        r#"\b[a-z0-9]{14}\.atlasv1\.[a-z0-9=_-]{60,70}"#,
    ),
    ("heroku_api_key_v2", r#"\bHRKU-AA[0-9A-Za-z_-]{58}"#),
    (
        "heroku_api_key",
        r#"(?i)\b(?:heroku)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
    ),
    ("openshift_token", r#"\bsha256~[A-Za-z0-9_-]{43}"#),
    ("pulumi_token", r#"\bpul-[a-f0-9]{40}"#),
    ("scalingo_token", r#"\btk-us-[A-Za-z0-9_-]{48}"#),
    (
        "yandex_iam_token",
        r#"\bt1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}"#,
    ),
    ("yandex_api_key", r#"\bAQVN[A-Za-z0-9_-]{35,38}"#),
    (
        "yandex_access_key",
        r#"(?i)\b(?:yandex)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:YC[A-Za-z0-9_-]{38})\b"#,
    ),
    (
        "supabase_token",
        r#"\bsbp_[a-f0-9]{40}|\bsb_secret_[A-Za-z0-9_-]{31}"#,
    ),
    ("netlify_token", r#"\bnfp_[A-Za-z0-9]{36}"#),
    (
        "netlify_legacy_token",
        r#"(?i)\b(?:netlify)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9_-]{43})\b"#,
    ),
    ("vercel_token", r#"\bvc[pia]_[A-Za-z0-9]{56}"#),
    (
        "linode_token",
        r#"(?i)\blinode[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[a-f0-9]{64}"#,
    ),
    (
        "kubernetes_client_key_data",
        r#"\bclient-key-data:\s*[A-Za-z0-9+/]{40,}={0,2}"#,
    ),
    (
        "gitlab_ci_job_token",
        r#"\bglcbt-[0-9a-zA-Z]{1,5}_[0-9a-zA-Z_-]{20}"#,
    ),
    ("gitlab_feature_flag_token", r#"\bglffct-[0-9a-zA-Z_-]{20}"#),
    ("gitlab_feed_token", r#"\bglft-[0-9a-zA-Z_-]{20}"#),
    ("gitlab_incoming_mail_token", r#"\bglimt-[0-9a-zA-Z_-]{25}"#),
    (
        "gitlab_kubernetes_agent_token",
        r#"\bglagent-[0-9a-zA-Z_-]{50}"#,
    ),
    ("gitlab_oauth_app_secret", r#"\bgloas-[0-9a-zA-Z_-]{64}"#),
    (
        "gitlab_runner_registration_token",
        r#"\bGR1348941[0-9a-zA-Z_-]{20}"#,
    ),
    ("gitlab_session_cookie", r#"_gitlab_session=[0-9a-z]{32}"#),
    ("bitbucket_app_password", r#"\bATBB[A-Za-z0-9_=.-]{32}"#),
    (
        "bitbucket_client_secret",
        r#"(?i)\b(?:bitbucket)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9=_-]{64})\b"#,
    ),
    ("circleci_token", r#"\bCCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}"#),
    ("buildkite_token", r#"\bbkua_[a-f0-9]{40}"#),
    (
        "travis_ci_token",
        r#"(?i)\b(?:travis)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{22})\b"#,
    ),
    (
        "drone_ci_token",
        r#"(?i)\b(?:drone)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{32})\b"#,
    ),
    (
        "docker_hub_token",
        r#"\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{27}"#,
    ),
    (
        "docker_config_auth",
        r#"(?:\\?")auth(?:\\?")\s*:\s*(?:\\?")[A-Za-z0-9+/]{12,}={0,2}(?:\\?")"#,
    ),
    ("artifactory_api_key", r#"\bAKCp[A-Za-z0-9]{69}"#),
    ("artifactory_reference_token", r#"\bcmVmd[A-Za-z0-9]{59}"#),
    ("clojars_token", r#"(?i)\bclojars_[a-z0-9]{60}"#),
    ("rubygems_token", r#"\brubygems_[a-f0-9]{48}"#),
    ("nuget_api_key", r#"\boy2[a-z0-9]{43}"#),
    (
        "nuget_config_password",
        r#"(?i)<add\s+key=\\?"(?:ClearText)?Password\\?"\s+value=\\?"[^"\\]{6,}\\?""#,
    ),
    (
        "npmrc_auth_token",
        r#"(?:^|[\s/:])_auth(?:Token)?\s*=\s*[A-Za-z0-9+/=_.-]{16,}"#,
    ),
    (
        "sourcegraph_token",
        r#"\bsgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}"#,
    ),
    ("sonarqube_token", r#"\bsq[upa]_[a-f0-9]{40}"#),
    (
        "snyk_token",
        r#"(?i)\b(?:snyk)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
    ),
    (
        "codecov_token",
        r#"(?i)\bcodecov[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"#,
    ),
    ("octopus_deploy_key", r#"\bAPI-[A-Z0-9]{26}"#),
    (
        "harness_token",
        r#"\b(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"#,
    ),
    ("prefect_token", r#"\bpnu_[A-Za-z0-9]{36}"#),
    ("readme_token", r#"\brdme_[a-z0-9]{70}"#),
    ("postman_token", r#"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}"#),
    ("infracost_token", r#"\bico-[A-Za-z0-9]{32}"#),
    (
        "defined_networking_token",
        r#"\bdnkey-[a-z0-9=_-]{26}-[a-z0-9=_-]{52}"#,
    ),
    ("frameio_token", r#"\bfio-u-[A-Za-z0-9_=-]{64}"#),
    (
        "slack_config_token",
        r#"\bxoxe\.xox[bp]-\d-[A-Z0-9]{163,166}|\bxoxe-\d-[A-Z0-9]{146}"#,
    ),
    (
        "microsoft_teams_webhook",
        r#"https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9-]{36}@[a-z0-9-]{36}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9-]{36}"#,
    ),
    (
        "discord_bot_token",
        r#"(?i)\b(?:discord)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[MNO][A-Za-z0-9]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})\b"#,
    ),
    (
        "mattermost_token",
        r#"(?i)\b(?:mattermost)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{26})\b"#,
    ),
    (
        "gitter_token",
        r#"(?i)\b(?:gitter)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9_-]{40})\b"#,
    ),
    (
        "intercom_token",
        r#"(?i)\b(?:intercom)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9=_-]{60})\b"#,
    ),
    (
        "messagebird_token",
        r#"(?i)\b(?:messagebird|message_bird|message-bird)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{25})\b"#,
    ),
    (
        "sendbird_token",
        r#"(?i)\b(?:sendbird)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{40})\b"#,
    ),
    (
        "sendinblue_api_key",
        r#"\bxkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"#,
    ),
    ("mailgun_public_key", r#"\bpubkey-[a-f0-9]{32}"#),
    (
        "mailgun_signing_key",
        r#"(?i)\b(?:mailgun)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-h0-9]{32}-[a-h0-9]{8}-[a-h0-9]{8})\b"#,
    ),
    ("mailchimp_api_key", r#"\b[0-9a-f]{32}-us\d{1,2}\b"#),
    (
        "twilio_auth_token",
        r#"(?i)\b(?:twilio)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{32})\b"#,
    ),
    ("telnyx_api_key", r#"\bKEY01[0-9A-F]{26}_[0-9A-Za-z]{22}"#),
    (
        "pagerduty_token",
        r#"(?i)\b(?:pagerduty|pager_duty)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9_+-]{20})\b"#,
    ),
    (
        "zendesk_token",
        r#"(?i)\b(?:zendesk)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{40})\b"#,
    ),
    (
        "asana_token",
        r#"(?i)\b(?:asana)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[0-9]/[0-9]{16}:[A-Za-z0-9]{32})\b"#,
    ),
    ("atlassian_api_token", r#"\bATATT3[A-Za-z0-9_=-]{186}"#),
    (
        "atlassian_legacy_token",
        r#"(?i)\b(?:jira|confluence|atlassian)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{24})\b"#,
    ),
    ("linear_api_key", r#"\blin_api_[A-Za-z0-9]{40}"#),
    (
        "linear_client_secret",
        r#"(?i)\b(?:linear)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{32})\b"#,
    ),
    ("notion_token", r#"\bntn_[0-9]{11}[A-Za-z0-9]{35}"#),
    (
        "notion_legacy_token",
        r#"(?i)\b(?:notion)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:secret_[A-Za-z0-9]{43})\b"#,
    ),
    ("typeform_token", r#"\btfp_[A-Za-z0-9_.=-]{59}"#),
    (
        "airtable_api_key",
        r#"(?i)\b(?:airtable)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:key[A-Za-z0-9]{14})\b"#,
    ),
    (
        "airtable_personal_token",
        r#"\bpat[A-Za-z0-9]{14}\.[a-f0-9]{64}"#,
    ),
    (
        "dropbox_token",
        r#"(?i)\b(?:dropbox)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:(?:sl\.[A-Za-z0-9_-]{130,152}|[A-Za-z0-9_-]{11}AAAAAAAAAA[A-Za-z0-9_-]{43}|[A-Za-z0-9]{15}))"#,
    ),
    ("figma_token", r#"\bfigd_[A-Za-z0-9_-]{40}"#),
    (
        "adyen_api_key",
        r#"\bAQE[a-zA-Z0-9]{4}\+?[A-Za-z0-9+/]{100,}={0,2}"#,
    ),
    (
        "coinbase_token",
        r#"(?i)\bcoinbase[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[A-Za-z0-9_-]{64}"#,
    ),
    (
        "kraken_token",
        r#"(?i)\b(?:kraken)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9/=_+-]{80,90})"#,
    ),
    (
        "kucoin_token",
        r#"(?i)\b(?:kucoin)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{24})\b"#,
    ),
    (
        "bittrex_token",
        r#"(?i)\b(?:bittrex)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{32})\b"#,
    ),
    (
        "duffel_token",
        r#"\bduffel_(?:test|live)_[A-Za-z0-9_=-]{43}"#,
    ),
    ("easypost_token", r#"\bEZ[AT]K[A-Za-z0-9]{54}"#),
    (
        "finicity_token",
        r#"(?i)\b(?:finicity)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{32})\b"#,
    ),
    (
        "finnhub_token",
        r#"(?i)\b(?:finnhub)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{20})\b"#,
    ),
    (
        "flutterwave_secret_key",
        r#"\bFLWSECK(?:_TEST)?-[a-h0-9]{32}-X\b|\bFLWSECK(?:_TEST)?[a-h0-9]{12}"#,
    ),
    (
        "gocardless_token",
        r#"(?i)\b(?:gocardless)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:live_[A-Za-z0-9_=-]{40})\b"#,
    ),
    (
        "plaid_access_token",
        r#"\baccess-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#,
    ),
    (
        "plaid_secret",
        r#"(?i)\b(?:plaid)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{30})\b"#,
    ),
    ("shippo_token", r#"\bshippo_(?:live|test)_[a-fA-F0-9]{40}"#),
    (
        "paypal_braintree_token",
        r#"\baccess_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}"#,
    ),
    ("razorpay_key", r#"\brzp_(?:live|test)_[A-Za-z0-9]{14}"#),
    (
        "etsy_token",
        r#"(?i)\b(?:etsy)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{24})\b"#,
    ),
    (
        "squarespace_token",
        r#"(?i)\bsquarespace[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"#,
    ),
    (
        "freshbooks_token",
        r#"(?i)\b(?:freshbooks)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{64})\b"#,
    ),
    (
        "datadog_api_key",
        r#"(?i)\b(?:datadog|dd_api|dd_app|ddog)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{32}(?:[a-f0-9]{8})?)\b"#,
    ),
    ("new_relic_user_key", r#"\bNRAK-[A-Z0-9]{27}"#),
    ("new_relic_insert_key", r#"\bNRII-[A-Za-z0-9-]{32}"#),
    ("new_relic_browser_key", r#"\bNRJS-[a-f0-9]{19}"#),
    (
        "new_relic_license_key",
        r#"(?i)\b(?:new_relic_license|newrelic_license|nr_license)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{36}NRAL|[a-f0-9]{40})\b"#,
    ),
    ("grafana_api_key", r#"\beyJrIjoi[A-Za-z0-9]{70,400}={0,2}"#),
    (
        "grafana_cloud_token",
        r#"\bglc_[A-Za-z0-9+/]{32,400}={0,2}"#,
    ),
    (
        "grafana_service_account_token",
        r#"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"#,
    ),
    ("sentry_user_token", r#"\bsntryu_[a-f0-9]{64}"#),
    (
        "sentry_org_token",
        r#"\bsntrys_eyJpYXQiO[A-Za-z0-9+/=_-]{10,400}"#,
    ),
    (
        "sentry_legacy_token",
        r#"(?i)\b(?:sentry)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{64})\b"#,
    ),
    ("dynatrace_token", r#"\bdt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}"#),
    (
        "sumologic_token",
        r#"(?i)\b(?:sumo)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{64})\b"#,
    ),
    (
        "launchdarkly_token",
        r#"(?i)\b(?:launchdarkly|launch_darkly)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9=_-]{40})\b"#,
    ),
    (
        "honeycomb_key",
        r#"(?i)\b(?:honeycomb)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{22}|[a-f0-9]{32})\b"#,
    ),
    (
        "algolia_api_key",
        r#"(?i)\b(?:algolia)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{32})\b"#,
    ),
    ("posthog_token", r#"\bphx_[A-Za-z0-9]{43}"#),
    (
        "hubspot_token",
        r#"(?i)\b(?:hubspot)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|pat-[a-z0-9]{2,4}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
    ),
    (
        "maxmind_license_key",
        r#"\b[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk\b"#,
    ),
    (
        "mapbox_secret_token",
        r#"(?i)\b(?:mapbox)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:sk\.eyJ1Ijoi[A-Za-z0-9_-]{50,}\.[A-Za-z0-9_-]{22})\b"#,
    ),
    ("groq_api_key", r#"\bgsk_[A-Za-z0-9]{52}"#),
    ("replicate_token", r#"\br8_[A-Za-z0-9]{37}"#),
    ("xai_api_key", r#"\bxai-[A-Za-z0-9]{80}"#),
    ("perplexity_api_key", r#"\bpplx-[A-Za-z0-9]{48}"#),
    (
        "cohere_api_key",
        r#"(?i)\b(?:cohere|co_api)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{40})\b"#,
    ),
    ("huggingface_org_token", r#"\bapi_org_[A-Za-z]{34}"#),
    (
        "langsmith_key",
        r#"\blsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}"#,
    ),
    (
        "mistral_api_key",
        r#"(?i)\b(?:mistral)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{32})\b"#,
    ),
    (
        "deepseek_api_key",
        r#"(?i)\b(?:deepseek)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:sk-[a-f0-9]{32})\b"#,
    ),
    ("clickhouse_cloud_key", r#"\b4b1d[A-Za-z0-9]{38}"#),
    (
        "confluent_secret",
        r#"(?i)\b(?:confluent)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9+/]{64})\b"#,
    ),
    (
        "planetscale_token",
        r#"\bpscale_(?:tkn|oauth|pw)_[A-Za-z0-9=._-]{32,64}"#,
    ),
    (
        "privateai_token",
        r#"(?i)\b(?:private_ai|privateai|private-ai)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{32})\b"#,
    ),
    (
        "settlemint_token",
        r#"\bsm_(?:aat|pat|sat)_[A-Za-z0-9]{16}"#,
    ),
    (
        "rapidapi_key",
        r#"(?i)\b(?:rapidapi|rapid_api)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9_-]{50})\b"#,
    ),
    (
        "contentful_token",
        r#"(?i)\b(?:contentful)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9=_-]{43})\b"#,
    ),
    ("facebook_access_token", r#"\bEAA[CMG][A-Za-z0-9]{100,}"#),
    (
        "facebook_app_secret",
        r#"(?i)\b(?:facebook|fb_secret|fb_app)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{32})\b"#,
    ),
    (
        "twitter_bearer_token",
        r#"\bAAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,}"#,
    ),
    (
        "twitter_secret",
        r#"(?i)\b(?:twitter|x_api|x_consumer)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{45,50})\b"#,
    ),
    (
        "twitch_token",
        r#"(?i)\b(?:twitch)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{30})\b"#,
    ),
    (
        "linkedin_secret",
        r#"(?i)\b(?:linkedin|linked_in|linked-in)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9]{16})\b"#,
    ),
    (
        "flickr_token",
        r#"(?i)\b(?:flickr)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-z0-9]{32})\b"#,
    ),
    (
        "nytimes_token",
        r#"(?i)\b(?:nytimes|new_york_times|newyorktimes)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9=_-]{32})\b"#,
    ),
    (
        "spotify_secret",
        r#"(?i)\b(?:spotify)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[a-f0-9]{32})\b"#,
    ),
    (
        "beamer_token",
        r#"(?i)\bbeamer[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?b_[A-Za-z0-9=_-]{44}"#,
    ),
    (
        "adafruit_key",
        r#"(?i)\b(?:adafruit)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:[A-Za-z0-9_-]{32})\b"#,
    ),
    (
        "adobe_client_secret",
        r#"(?i)\b(?:adobe)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:p8e-[A-Za-z0-9]{32})\b"#,
    ),
    (
        "intra42_secret",
        r#"(?i)\b(?:intra42|42_intra)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:s-s4t2(?:ud|af)-[a-f0-9]{64})\b"#,
    ),
    (
        "lob_api_key",
        r#"(?i)\b(?:lob_|lob-)[A-Za-z0-9_.-]{0,24}(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?(?:(?:live|test)_[a-f0-9]{35})\b"#,
    ),
    (
        "putty_private_key",
        r#"PuTTY-User-Key-File-\d: [\s\S]*?Private-Lines: \d+(?:\s|\\[rn])+(?:[A-Za-z0-9+/=\s]|\\[rn]){20,}"#,
    ),
    (
        "htpasswd_entry",
        r#"\b[A-Za-z0-9_.-]+:(?:\$apr1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}|\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}|\{SHA\}[A-Za-z0-9+/]{27}=)"#,
    ),
    (
        "netrc_password",
        r#"(?i)\bmachine\s+\S+\s+login\s+\S+\s+password\s+\S{4,}"#,
    ),
    (
        "curl_user_credentials",
        r#"(?i)\bcurl\b[^\n]*?\s(?:-u|--user)\s+["\']?[^:\s"\']+:[^\s"\']{3,}"#,
    ),
    (
        "cloudinary_url",
        r#"\bcloudinary://\d+:[A-Za-z0-9_-]+@[A-Za-z0-9_-]+"#,
    ),
    (
        "salesforce_access_token",
        r#"\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{80,}"#,
    ),
    ("jwt_base64", r#"\bZXlKaGJHY2lPaU[A-Za-z0-9+/=_-]{40,}"#),
    ("google_oauth_access_token", r#"\bya29\.[A-Za-z0-9_-]{30,}"#),
    ("google_oauth_refresh_token", r#"\b1//0[A-Za-z0-9_-]{40,}"#),
    (
        "license_key_assignment",
        r#"(?i)\b(?:license|licence|ingest|monitoring|app|application|master|signing|encryption)[_-]?key(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[A-Za-z0-9+/_-]{24,}={0,2}"#,
    ),
    // Credentials inside URLs and connection strings.
    (
        "postgres_connection_string",
        r"\bpostgres(?:ql)?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "mysql_connection_string",
        r"\bmysql(?:x)?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "mongodb_connection_string",
        r"\bmongodb(?:\+srv)?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "redis_connection_string",
        r"\brediss?://[^\s:@/]*:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "amqp_connection_string",
        r"\bamqps?://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    (
        "url_credentials",
        r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:@/]+:[^\s@/]+@[^\s'\x22<>]+",
    ),
    // Headers and assignments.
    ("bearer_token", r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{20,}=*"),
    (
        "basic_auth",
        r"(?i)\bauthorization:\s*basic\s+[A-Za-z0-9+/]{12,}={0,2}",
    ),
    (
        "api_key_assignment",
        r#"(?i)\b(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|client[_-]?secret|secret[_-]?key)\b(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[^\s"'\\,;()]{8,}"#,
    ),
    (
        "password_assignment",
        r#"(?i)\b(?:password|passwd|pwd)\b(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?[^\s"'\\,;&()]{4,}"#,
    ),
];

/// The kinds by the provider or shape they belong to, for the README and the
/// threat models. Every kind of [`KINDS`] is in exactly one group (tested).
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "Identity and secrets managers",
        &[
            "age_secret_key",
            "onepassword_secret_key",
            "onepassword_service_account_token",
            "vault_service_token",
            "vault_batch_token",
            "doppler_token",
            "age_identity_plugin",
            "tailscale_key",
            "okta_api_token",
            "azure_ad_client_secret",
        ],
    ),
    (
        "Cloud and infrastructure",
        &[
            "aws_access_key",
            "aws_secret_key",
            "gcp_api_key",
            "gcp_service_account_key",
            "google_oauth_client_secret",
            "azure_connection_string",
            "azure_storage_key",
            "azure_sas_token",
            "digitalocean_token",
            "databricks_token",
            "alibaba_access_key_id",
            "alibaba_secret_key",
            "aws_bedrock_api_key",
            "aws_session_token",
            "cloudflare_origin_ca_key",
            "cloudflare_api_token",
            "cloudflare_global_api_key",
            "digitalocean_spaces_key",
            "flyio_token",
            "hashicorp_terraform_token",
            "heroku_api_key_v2",
            "heroku_api_key",
            "openshift_token",
            "pulumi_token",
            "scalingo_token",
            "yandex_iam_token",
            "yandex_api_key",
            "yandex_access_key",
            "supabase_token",
            "netlify_token",
            "netlify_legacy_token",
            "vercel_token",
            "linode_token",
            "kubernetes_client_key_data",
        ],
    ),
    (
        "Source hosting, CI and package registries",
        &[
            "github_fine_grained_token",
            "github_token",
            "gitlab_token",
            "npm_token",
            "pypi_token",
            "huggingface_token",
            "gitlab_ci_job_token",
            "gitlab_feature_flag_token",
            "gitlab_feed_token",
            "gitlab_incoming_mail_token",
            "gitlab_kubernetes_agent_token",
            "gitlab_oauth_app_secret",
            "gitlab_runner_registration_token",
            "gitlab_session_cookie",
            "bitbucket_app_password",
            "bitbucket_client_secret",
            "circleci_token",
            "buildkite_token",
            "travis_ci_token",
            "drone_ci_token",
            "docker_hub_token",
            "docker_config_auth",
            "artifactory_api_key",
            "artifactory_reference_token",
            "clojars_token",
            "rubygems_token",
            "nuget_api_key",
            "nuget_config_password",
            "npmrc_auth_token",
            "sourcegraph_token",
            "sonarqube_token",
            "snyk_token",
            "codecov_token",
            "octopus_deploy_key",
            "harness_token",
            "prefect_token",
            "readme_token",
            "postman_token",
            "infracost_token",
            "defined_networking_token",
            "frameio_token",
        ],
    ),
    (
        "Messaging, mail and collaboration",
        &[
            "slack_webhook",
            "slack_app_token",
            "slack_bot_token",
            "slack_token",
            "discord_webhook",
            "telegram_bot_token",
            "sendgrid_api_key",
            "twilio_api_key",
            "mailgun_api_key",
            "slack_config_token",
            "microsoft_teams_webhook",
            "discord_bot_token",
            "mattermost_token",
            "gitter_token",
            "intercom_token",
            "messagebird_token",
            "sendbird_token",
            "sendinblue_api_key",
            "mailgun_public_key",
            "mailgun_signing_key",
            "mailchimp_api_key",
            "twilio_auth_token",
            "telnyx_api_key",
            "pagerduty_token",
            "zendesk_token",
            "asana_token",
            "atlassian_api_token",
            "atlassian_legacy_token",
            "linear_api_key",
            "linear_client_secret",
            "notion_token",
            "notion_legacy_token",
            "typeform_token",
            "airtable_api_key",
            "airtable_personal_token",
            "dropbox_token",
            "figma_token",
        ],
    ),
    (
        "Payments, commerce and finance",
        &[
            "stripe_secret_key",
            "stripe_restricted_key",
            "stripe_webhook_secret",
            "shopify_token",
            "square_token",
            "adyen_api_key",
            "coinbase_token",
            "kraken_token",
            "kucoin_token",
            "bittrex_token",
            "duffel_token",
            "easypost_token",
            "finicity_token",
            "finnhub_token",
            "flutterwave_secret_key",
            "gocardless_token",
            "plaid_access_token",
            "plaid_secret",
            "shippo_token",
            "paypal_braintree_token",
            "razorpay_key",
            "etsy_token",
            "squarespace_token",
            "freshbooks_token",
        ],
    ),
    (
        "Monitoring and analytics",
        &[
            "datadog_api_key",
            "new_relic_user_key",
            "new_relic_insert_key",
            "new_relic_browser_key",
            "new_relic_license_key",
            "grafana_api_key",
            "grafana_cloud_token",
            "grafana_service_account_token",
            "sentry_user_token",
            "sentry_org_token",
            "sentry_legacy_token",
            "dynatrace_token",
            "sumologic_token",
            "launchdarkly_token",
            "honeycomb_key",
            "algolia_api_key",
            "posthog_token",
            "hubspot_token",
            "maxmind_license_key",
            "mapbox_secret_token",
        ],
    ),
    (
        "AI and data platforms",
        &[
            "anthropic_api_key",
            "openai_api_key",
            "groq_api_key",
            "replicate_token",
            "xai_api_key",
            "perplexity_api_key",
            "cohere_api_key",
            "huggingface_org_token",
            "langsmith_key",
            "mistral_api_key",
            "deepseek_api_key",
            "clickhouse_cloud_key",
            "confluent_secret",
            "planetscale_token",
            "privateai_token",
            "settlemint_token",
            "rapidapi_key",
            "contentful_token",
        ],
    ),
    (
        "Social and media",
        &[
            "facebook_access_token",
            "facebook_app_secret",
            "twitter_bearer_token",
            "twitter_secret",
            "twitch_token",
            "linkedin_secret",
            "flickr_token",
            "nytimes_token",
            "spotify_secret",
            "beamer_token",
            "adafruit_key",
            "adobe_client_secret",
            "intra42_secret",
            "lob_api_key",
        ],
    ),
    (
        "Keys, tokens and generic shapes",
        &[
            "private_key",
            "jwt",
            "putty_private_key",
            "htpasswd_entry",
            "netrc_password",
            "curl_user_credentials",
            "cloudinary_url",
            "salesforce_access_token",
            "jwt_base64",
            "google_oauth_access_token",
            "google_oauth_refresh_token",
            "license_key_assignment",
        ],
    ),
    (
        "Connection strings and URLs",
        &[
            "postgres_connection_string",
            "mysql_connection_string",
            "mongodb_connection_string",
            "redis_connection_string",
            "amqp_connection_string",
            "url_credentials",
        ],
    ),
    (
        "Headers and assignments",
        &[
            "bearer_token",
            "basic_auth",
            "api_key_assignment",
            "password_assignment",
        ],
    ),
];

/// A necessary condition for a pattern to match: one of `any` occurs in the
/// text (compared ignoring ASCII case when `ignore_case`).
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// The literals, one of which every match contains.
    pub any: &'static [&'static str],
    /// Whether the pattern matches them in any case.
    pub ignore_case: bool,
}

const fn cs(any: &'static [&'static str]) -> Needs {
    Needs {
        any,
        ignore_case: false,
    }
}

const fn ci(any: &'static [&'static str]) -> Needs {
    Needs {
        any,
        ignore_case: true,
    }
}

/// URL userinfo (`scheme://user:pass@host`) needs both of these.
const USERINFO: &[Needs] = &[cs(&["://"]), cs(&["@"])];
/// Keyword assignments need an assignment sign.
const ASSIGN: Needs = cs(&[":", "="]);

/// For each kind, in the order of [`KINDS`], literals every match contains:
/// all of the groups, one literal of each. Text that satisfies no kind's
/// groups holds no secret, and one literal scan proves it without running the
/// regex. `tests/secrets.rs` checks every sample satisfies its kind's groups.
pub const REQUIRED: &[(&str, &[Needs])] = &[
    ("private_key", &[cs(&["-----BEGIN "])]),
    ("jwt", &[cs(&["eyJ"])]),
    ("aws_access_key", &[cs(&["AKIA", "ASIA", "ABIA", "ACCA"])]),
    ("aws_secret_key", &[ci(&["aws"]), ci(&["secret"]), ASSIGN]),
    ("gcp_api_key", &[cs(&["AIza"])]),
    ("gcp_service_account_key", &[cs(&["private_key_id"])]),
    ("google_oauth_client_secret", &[cs(&["GOCSPX-"])]),
    (
        "azure_connection_string",
        &[ci(&["defaultendpointsprotocol="])],
    ),
    ("azure_storage_key", &[ci(&["accountkey="])]),
    ("azure_sas_token", &[cs(&["sv="]), cs(&["sig="])]),
    ("digitalocean_token", &[cs(&["_v1_"])]),
    ("databricks_token", &[cs(&["dapi"])]),
    ("github_fine_grained_token", &[cs(&["github_pat_"])]),
    (
        "github_token",
        &[cs(&["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])],
    ),
    (
        "gitlab_token",
        &[cs(&["glpat-", "glrt-", "gldt-", "glptt-", "glsoat-"])],
    ),
    ("npm_token", &[cs(&["npm_"])]),
    ("pypi_token", &[cs(&["pypi-AgEIcHlwaS5vcmc"])]),
    ("huggingface_token", &[cs(&["hf_"])]),
    ("slack_webhook", &[cs(&["https://hooks.slack.com/"])]),
    ("slack_app_token", &[cs(&["xapp-"])]),
    ("slack_bot_token", &[cs(&["xoxb-"])]),
    (
        "slack_token",
        &[cs(&["xoxa-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"])],
    ),
    ("discord_webhook", &[cs(&["/api/webhooks/"])]),
    ("telegram_bot_token", &[cs(&[":AA"])]),
    ("stripe_secret_key", &[cs(&["sk_live_", "sk_test_"])]),
    ("stripe_restricted_key", &[cs(&["rk_live_", "rk_test_"])]),
    ("stripe_webhook_secret", &[cs(&["whsec_"])]),
    ("sendgrid_api_key", &[cs(&["SG."])]),
    (
        "twilio_api_key",
        &[cs(&[
            "SK0", "SK1", "SK2", "SK3", "SK4", "SK5", "SK6", "SK7", "SK8", "SK9", "SKa", "SKb",
            "SKc", "SKd", "SKe", "SKf", "SKA", "SKB", "SKC", "SKD", "SKE", "SKF",
        ])],
    ),
    ("mailgun_api_key", &[cs(&["key-"])]),
    (
        "shopify_token",
        &[cs(&["shpat_", "shpca_", "shppa_", "shpss_"])],
    ),
    ("square_token", &[cs(&["sq0atp-", "sq0csp-"])]),
    ("anthropic_api_key", &[cs(&["sk-ant-"])]),
    (
        "openai_api_key",
        &[cs(&["sk-proj-", "sk-svcacct-", "sk-admin-", "T3BlbkFJ"])],
    ),
    ("age_secret_key", &[cs(&["AGE-SECRET-KEY-1"])]),
    ("onepassword_secret_key", &[cs(&["A3-"])]),
    ("onepassword_service_account_token", &[cs(&["ops_eyJ"])]),
    ("vault_service_token", &[cs(&["hvs."])]),
    ("vault_batch_token", &[cs(&["hvb."])]),
    ("doppler_token", &[cs(&["dp.pt."])]),
    ("age_identity_plugin", &[cs(&["AGE-PLUGIN-"])]),
    ("tailscale_key", &[cs(&["tskey-"])]),
    ("okta_api_token", &[ci(&["okta"]), ASSIGN]),
    (
        "azure_ad_client_secret",
        &[cs(&[
            "0Q~", "1Q~", "2Q~", "3Q~", "4Q~", "5Q~", "6Q~", "7Q~", "8Q~", "9Q~",
        ])],
    ),
    ("alibaba_access_key_id", &[cs(&["LTAI"])]),
    ("alibaba_secret_key", &[ci(&["alibaba", "aliyun"]), ASSIGN]),
    ("aws_bedrock_api_key", &[cs(&["ABSK"])]),
    (
        "aws_session_token",
        &[ci(&["aws"]), ci(&["session"]), ASSIGN],
    ),
    ("cloudflare_origin_ca_key", &[cs(&["v1.0-"])]),
    (
        "cloudflare_api_token",
        &[ci(&["cloudflare", "cf_api"]), ASSIGN],
    ),
    (
        "cloudflare_global_api_key",
        &[ci(&["cloudflare_global", "cf_global"]), ASSIGN],
    ),
    ("digitalocean_spaces_key", &[cs(&["DO00"])]),
    ("flyio_token", &[cs(&["fo1_", "fm1", "fm2"])]),
    ("hashicorp_terraform_token", &[cs(&[".atlasv1."])]),
    ("heroku_api_key_v2", &[cs(&["HRKU-AA"])]),
    ("heroku_api_key", &[ci(&["heroku"]), ASSIGN]),
    ("openshift_token", &[cs(&["sha256~"])]),
    ("pulumi_token", &[cs(&["pul-"])]),
    ("scalingo_token", &[cs(&["tk-us-"])]),
    ("yandex_iam_token", &[cs(&["t1."])]),
    ("yandex_api_key", &[cs(&["AQVN"])]),
    ("yandex_access_key", &[ci(&["yandex"]), ASSIGN]),
    ("supabase_token", &[cs(&["sbp_", "sb_secret_"])]),
    ("netlify_token", &[cs(&["nfp_"])]),
    ("netlify_legacy_token", &[ci(&["netlify"]), ASSIGN]),
    ("vercel_token", &[cs(&["vcp_", "vci_", "vca_"])]),
    ("linode_token", &[ci(&["linode"]), ASSIGN]),
    ("kubernetes_client_key_data", &[cs(&["client-key-data:"])]),
    ("gitlab_ci_job_token", &[cs(&["glcbt-"])]),
    ("gitlab_feature_flag_token", &[cs(&["glffct-"])]),
    ("gitlab_feed_token", &[cs(&["glft-"])]),
    ("gitlab_incoming_mail_token", &[cs(&["glimt-"])]),
    ("gitlab_kubernetes_agent_token", &[cs(&["glagent-"])]),
    ("gitlab_oauth_app_secret", &[cs(&["gloas-"])]),
    ("gitlab_runner_registration_token", &[cs(&["GR1348941"])]),
    ("gitlab_session_cookie", &[cs(&["_gitlab_session="])]),
    ("bitbucket_app_password", &[cs(&["ATBB"])]),
    ("bitbucket_client_secret", &[ci(&["bitbucket"]), ASSIGN]),
    ("circleci_token", &[cs(&["CCIPAT_"])]),
    ("buildkite_token", &[cs(&["bkua_"])]),
    ("travis_ci_token", &[ci(&["travis"]), ASSIGN]),
    ("drone_ci_token", &[ci(&["drone"]), ASSIGN]),
    ("docker_hub_token", &[cs(&["dckr_pat_", "dckr_oat_"])]),
    ("docker_config_auth", &[cs(&["auth\\\"", "auth\""])]),
    ("artifactory_api_key", &[cs(&["AKCp"])]),
    ("artifactory_reference_token", &[cs(&["cmVmd"])]),
    ("clojars_token", &[ci(&["clojars_"])]),
    ("rubygems_token", &[cs(&["rubygems_"])]),
    ("nuget_api_key", &[cs(&["oy2"])]),
    ("nuget_config_password", &[ci(&["<add"]), ci(&["password"])]),
    ("npmrc_auth_token", &[cs(&["_auth"]), ASSIGN]),
    ("sourcegraph_token", &[cs(&["sgp_"])]),
    ("sonarqube_token", &[cs(&["squ_", "sqp_", "sqa_"])]),
    ("snyk_token", &[ci(&["snyk"]), ASSIGN]),
    ("codecov_token", &[ci(&["codecov"]), ASSIGN]),
    ("octopus_deploy_key", &[cs(&["API-"])]),
    ("harness_token", &[cs(&["pat.", "sat."])]),
    ("prefect_token", &[cs(&["pnu_"])]),
    ("readme_token", &[cs(&["rdme_"])]),
    ("postman_token", &[cs(&["PMAK-"])]),
    ("infracost_token", &[cs(&["ico-"])]),
    ("defined_networking_token", &[cs(&["dnkey-"])]),
    ("frameio_token", &[cs(&["fio-u-"])]),
    ("slack_config_token", &[cs(&["xoxe"])]),
    ("microsoft_teams_webhook", &[cs(&[".webhook.office.com/"])]),
    ("discord_bot_token", &[ci(&["discord"]), ASSIGN]),
    ("mattermost_token", &[ci(&["mattermost"]), ASSIGN]),
    ("gitter_token", &[ci(&["gitter"]), ASSIGN]),
    ("intercom_token", &[ci(&["intercom"]), ASSIGN]),
    (
        "messagebird_token",
        &[ci(&["messagebird", "message_bird", "message-bird"]), ASSIGN],
    ),
    ("sendbird_token", &[ci(&["sendbird"]), ASSIGN]),
    ("sendinblue_api_key", &[cs(&["xkeysib-"])]),
    ("mailgun_public_key", &[cs(&["pubkey-"])]),
    ("mailgun_signing_key", &[ci(&["mailgun"]), ASSIGN]),
    ("mailchimp_api_key", &[cs(&["-us"])]),
    ("twilio_auth_token", &[ci(&["twilio"]), ASSIGN]),
    ("telnyx_api_key", &[cs(&["KEY01"])]),
    (
        "pagerduty_token",
        &[ci(&["pagerduty", "pager_duty"]), ASSIGN],
    ),
    ("zendesk_token", &[ci(&["zendesk"]), ASSIGN]),
    ("asana_token", &[ci(&["asana"]), ASSIGN]),
    ("atlassian_api_token", &[cs(&["ATATT3"])]),
    (
        "atlassian_legacy_token",
        &[ci(&["jira", "confluence", "atlassian"]), ASSIGN],
    ),
    ("linear_api_key", &[cs(&["lin_api_"])]),
    ("linear_client_secret", &[ci(&["linear"]), ASSIGN]),
    ("notion_token", &[cs(&["ntn_"])]),
    ("notion_legacy_token", &[ci(&["notion"]), ASSIGN]),
    ("typeform_token", &[cs(&["tfp_"])]),
    ("airtable_api_key", &[ci(&["airtable"]), ASSIGN]),
    ("airtable_personal_token", &[cs(&["pat"])]),
    ("dropbox_token", &[ci(&["dropbox"]), ASSIGN]),
    ("figma_token", &[cs(&["figd_"])]),
    ("adyen_api_key", &[cs(&["AQE"])]),
    ("coinbase_token", &[ci(&["coinbase"]), ASSIGN]),
    ("kraken_token", &[ci(&["kraken"]), ASSIGN]),
    ("kucoin_token", &[ci(&["kucoin"]), ASSIGN]),
    ("bittrex_token", &[ci(&["bittrex"]), ASSIGN]),
    ("duffel_token", &[cs(&["duffel_"])]),
    ("easypost_token", &[cs(&["EZAK", "EZTK"])]),
    ("finicity_token", &[ci(&["finicity"]), ASSIGN]),
    ("finnhub_token", &[ci(&["finnhub"]), ASSIGN]),
    ("flutterwave_secret_key", &[cs(&["FLWSECK"])]),
    ("gocardless_token", &[ci(&["gocardless"]), ASSIGN]),
    (
        "plaid_access_token",
        &[cs(&[
            "access-sandbox-",
            "access-development-",
            "access-production-",
        ])],
    ),
    ("plaid_secret", &[ci(&["plaid"]), ASSIGN]),
    ("shippo_token", &[cs(&["shippo_"])]),
    (
        "paypal_braintree_token",
        &[cs(&["access_token$production$", "access_token$sandbox$"])],
    ),
    ("razorpay_key", &[cs(&["rzp_live_", "rzp_test_"])]),
    ("etsy_token", &[ci(&["etsy"]), ASSIGN]),
    ("squarespace_token", &[ci(&["squarespace"]), ASSIGN]),
    ("freshbooks_token", &[ci(&["freshbooks"]), ASSIGN]),
    (
        "datadog_api_key",
        &[ci(&["datadog", "dd_api", "dd_app", "ddog"]), ASSIGN],
    ),
    ("new_relic_user_key", &[cs(&["NRAK-"])]),
    ("new_relic_insert_key", &[cs(&["NRII-"])]),
    ("new_relic_browser_key", &[cs(&["NRJS-"])]),
    (
        "new_relic_license_key",
        &[
            ci(&["new_relic_license", "newrelic_license", "nr_license"]),
            ASSIGN,
        ],
    ),
    ("grafana_api_key", &[cs(&["eyJrIjoi"])]),
    ("grafana_cloud_token", &[cs(&["glc_"])]),
    ("grafana_service_account_token", &[cs(&["glsa_"])]),
    ("sentry_user_token", &[cs(&["sntryu_"])]),
    ("sentry_org_token", &[cs(&["sntrys_"])]),
    ("sentry_legacy_token", &[ci(&["sentry"]), ASSIGN]),
    ("dynatrace_token", &[cs(&["dt0c01."])]),
    ("sumologic_token", &[ci(&["sumo"]), ASSIGN]),
    (
        "launchdarkly_token",
        &[ci(&["launchdarkly", "launch_darkly"]), ASSIGN],
    ),
    ("honeycomb_key", &[ci(&["honeycomb"]), ASSIGN]),
    ("algolia_api_key", &[ci(&["algolia"]), ASSIGN]),
    ("posthog_token", &[cs(&["phx_"])]),
    ("hubspot_token", &[ci(&["hubspot"]), ASSIGN]),
    ("maxmind_license_key", &[cs(&["_mmk"])]),
    ("mapbox_secret_token", &[ci(&["mapbox"]), ASSIGN]),
    ("groq_api_key", &[cs(&["gsk_"])]),
    ("replicate_token", &[cs(&["r8_"])]),
    ("xai_api_key", &[cs(&["xai-"])]),
    ("perplexity_api_key", &[cs(&["pplx-"])]),
    ("cohere_api_key", &[ci(&["cohere", "co_api"]), ASSIGN]),
    ("huggingface_org_token", &[cs(&["api_org_"])]),
    ("langsmith_key", &[cs(&["lsv2_pt_", "lsv2_sk_"])]),
    ("mistral_api_key", &[ci(&["mistral"]), ASSIGN]),
    ("deepseek_api_key", &[ci(&["deepseek"]), ASSIGN]),
    ("clickhouse_cloud_key", &[cs(&["4b1d"])]),
    ("confluent_secret", &[ci(&["confluent"]), ASSIGN]),
    (
        "planetscale_token",
        &[cs(&["pscale_tkn_", "pscale_oauth_", "pscale_pw_"])],
    ),
    (
        "privateai_token",
        &[ci(&["private_ai", "privateai", "private-ai"]), ASSIGN],
    ),
    (
        "settlemint_token",
        &[cs(&["sm_aat_", "sm_pat_", "sm_sat_"])],
    ),
    ("rapidapi_key", &[ci(&["rapidapi", "rapid_api"]), ASSIGN]),
    ("contentful_token", &[ci(&["contentful"]), ASSIGN]),
    ("facebook_access_token", &[cs(&["EAAC", "EAAM", "EAAG"])]),
    (
        "facebook_app_secret",
        &[ci(&["facebook", "fb_secret", "fb_app"]), ASSIGN],
    ),
    ("twitter_bearer_token", &[cs(&["AAAAAAAAAAAAAAAAAAAAA"])]),
    (
        "twitter_secret",
        &[ci(&["twitter", "x_api", "x_consumer"]), ASSIGN],
    ),
    ("twitch_token", &[ci(&["twitch"]), ASSIGN]),
    (
        "linkedin_secret",
        &[ci(&["linkedin", "linked_in", "linked-in"]), ASSIGN],
    ),
    ("flickr_token", &[ci(&["flickr"]), ASSIGN]),
    (
        "nytimes_token",
        &[ci(&["nytimes", "new_york_times", "newyorktimes"]), ASSIGN],
    ),
    ("spotify_secret", &[ci(&["spotify"]), ASSIGN]),
    ("beamer_token", &[ci(&["beamer"]), ASSIGN]),
    ("adafruit_key", &[ci(&["adafruit"]), ASSIGN]),
    ("adobe_client_secret", &[ci(&["adobe"]), ASSIGN]),
    ("intra42_secret", &[ci(&["intra42", "42_intra"]), ASSIGN]),
    ("lob_api_key", &[ci(&["lob_", "lob-"]), ASSIGN]),
    ("putty_private_key", &[cs(&["PuTTY-User-Key-File-"])]),
    (
        "htpasswd_entry",
        &[cs(&[":$apr1$", ":$2a$", ":$2b$", ":$2y$", ":{SHA}"])],
    ),
    ("netrc_password", &[ci(&["machine"]), ci(&["password"])]),
    (
        "curl_user_credentials",
        // `-u` is too short to scan for; the colon of the credentials is looked up.
        &[ci(&["curl"]), cs(&[":"])],
    ),
    ("cloudinary_url", &[cs(&["cloudinary://"])]),
    ("salesforce_access_token", &[cs(&["00D"]), cs(&["!"])]),
    ("jwt_base64", &[cs(&["ZXlKaGJHY2lPaU"])]),
    ("google_oauth_access_token", &[cs(&["ya29."])]),
    ("google_oauth_refresh_token", &[cs(&["1//0"])]),
    (
        "license_key_assignment",
        &[
            ci(&[
                "license",
                "licence",
                "ingest",
                "monitoring",
                "app",
                "application",
                "master",
                "signing",
                "encryption",
            ]),
            ci(&["key"]),
            ASSIGN,
        ],
    ),
    ("postgres_connection_string", USERINFO),
    ("mysql_connection_string", USERINFO),
    ("mongodb_connection_string", USERINFO),
    ("redis_connection_string", USERINFO),
    ("amqp_connection_string", USERINFO),
    ("url_credentials", USERINFO),
    ("bearer_token", &[ci(&["bearer"])]),
    ("basic_auth", &[ci(&["authorization:"]), ci(&["basic"])]),
    (
        "api_key_assignment",
        &[ci(&["key", "token", "secret"]), ASSIGN],
    ),
    (
        "password_assignment",
        &[ci(&["password", "passwd", "pwd"]), ASSIGN],
    ),
];

/// Finds which [`REQUIRED`] literals occur, in one pass over the text with
/// no copy, looking at every second position only. There a filter looks up
/// the position's next bytes with the case bit set (`| 0x20`, which folds
/// ASCII letters and may only merge other bytes): a hash of three of them,
/// and two of them. A literal of four bytes or more is filed under the hash
/// of its first three bytes and of the three after its first, so whichever
/// of its first two positions is looked at finds it; a literal of three bytes
/// under its first two bytes and its last two. Positions whose bytes start no
/// literal, nearly all of them, are passed over on those lookups, which do
/// not depend on one another, so the processor runs several at once. Where
/// the filter passes, the literals filed there are compared against the text
/// with their own case rule. Every scanned literal has three bytes or more.
/// Single characters (`:`, `=`, `@`) are common and would stop the search
/// everywhere; they are looked up only for a kind whose other literals all
/// occurred.
struct Prefilter {
    /// The scanned literals and whether each ignores ASCII case.
    literals: Vec<(&'static str, bool)>,
    /// The literals of four bytes or more, by the [`trigram`] hash of bytes
    /// 0..3 (offset 0) and 1..4 (offset 1).
    trigrams: Keys,
    /// The literals of three bytes, by bytes 0..2 (offset 0) and 1..3
    /// (offset 1).
    pairs: Keys,
    /// Per kind, per group: its alternatives.
    kinds: Vec<Vec<Vec<Literal>>>,
}

/// Whether `text` holds `ſ` (U+017F, `C5 BF`) or the Kelvin sign (U+212A,
/// `E2 84 AA`). Their lead bytes are looked for with vector instructions,
/// and only where one is found are the bytes after it compared.
fn folds_to_ascii(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(0xC5, 0xE2, bytes).any(|at| {
        let rest = &bytes[at..];
        rest.starts_with("\u{17F}".as_bytes()) || rest.starts_with("\u{212A}".as_bytes())
    })
}

/// The table index of three bytes (case bit set), the low 24 bits of `key`:
/// 16 bits, so that with 8 KiB of table about one position in 150 of text
/// that holds no literal passes the filter.
fn trigram(key: u32) -> u16 {
    ((key & 0x00FF_FFFF).wrapping_mul(0x9E37_79B1) >> 16) as u16
}

/// A set of 16-bit keys, a bit each (8 KiB, so a lookup stays in the
/// processor's nearest cache), with the literals filed under each key.
struct Keys {
    bits: Box<[u64; 1024]>,
    /// Per word of `bits`, how many keys the words before it hold: a key's
    /// rank among the keys, which indexes `starts`, in one lookup and a count.
    before: Box<[u16; 1024]>,
    /// Per key in order, where its literals start in `filed`, and the end.
    starts: Vec<usize>,
    /// Literals (indices into the prefilter's), each with the offset in the
    /// literal of the bytes it is filed by, by key.
    filed: Vec<(usize, usize)>,
}

impl Keys {
    fn new(mut entries: Vec<(u16, (usize, usize))>) -> Self {
        entries.sort_unstable();
        entries.dedup();
        let mut bits = Box::new([0u64; 1024]);
        let mut starts = Vec::new();
        let mut last = None;
        for (n, &(key, _)) in entries.iter().enumerate() {
            if last != Some(key) {
                bits[usize::from(key / 64)] |= 1 << (key % 64);
                starts.push(n);
                last = Some(key);
            }
        }
        starts.push(entries.len());
        let mut before = Box::new([0u16; 1024]);
        let mut count = 0;
        for (word, before) in bits.iter().zip(before.iter_mut()) {
            *before = count;
            count += word.count_ones() as u16;
        }
        Self {
            bits,
            before,
            starts,
            filed: entries.into_iter().map(|(_, filed)| filed).collect(),
        }
    }

    fn has(&self, key: u16) -> bool {
        self.bits[usize::from(key / 64)] & (1 << (key % 64)) != 0
    }

    /// The literals filed under `key`, with their offsets.
    fn filed(&self, key: u16) -> &[(usize, usize)] {
        if !self.has(key) {
            return &[];
        }
        let word = usize::from(key / 64);
        let below = self.bits[word] & ((1 << (key % 64)) - 1);
        let rank = usize::from(self.before[word]) + below.count_ones() as usize;
        &self.filed[self.starts[rank]..self.starts[rank + 1]]
    }
}

#[derive(Clone, Copy)]
enum Literal {
    /// Found by the scan: an index into `literals`.
    Scanned(usize),
    /// A single character, looked up on demand.
    Char(char),
}

impl Prefilter {
    fn new() -> Self {
        let mut literals: Vec<(&'static str, bool)> = Vec::new();
        let kinds = REQUIRED
            .iter()
            .map(|(_, groups)| {
                groups
                    .iter()
                    .map(|needs| {
                        needs
                            .any
                            .iter()
                            .map(|&l| {
                                let mut chars = l.chars();
                                match (chars.next(), chars.next()) {
                                    (Some(c), None) if !needs.ignore_case => Literal::Char(c),
                                    _ => {
                                        let key = (l, needs.ignore_case);
                                        let i = literals.iter().position(|k| *k == key);
                                        Literal::Scanned(i.unwrap_or_else(|| {
                                            literals.push(key);
                                            literals.len() - 1
                                        }))
                                    }
                                }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut trigrams = Vec::new();
        let mut pairs = Vec::new();
        for (i, (literal, _)) in literals.iter().enumerate() {
            let folded: Vec<u8> = literal.bytes().map(|b| b | 0x20).collect();
            match *folded {
                [a, b, c, d, ..] => {
                    trigrams.push((trigram(u32::from_le_bytes([a, b, c, 0])), (i, 0)));
                    trigrams.push((trigram(u32::from_le_bytes([b, c, d, 0])), (i, 1)));
                }
                [a, b, c] => {
                    pairs.push((u16::from_le_bytes([a, b]), (i, 0)));
                    pairs.push((u16::from_le_bytes([b, c]), (i, 1)));
                }
                _ => panic!("{literal:?}: a scanned literal has three bytes or more"),
            }
        }
        Self {
            literals,
            trigrams: Keys::new(trigrams),
            pairs: Keys::new(pairs),
            kinds,
        }
    }

    /// Marks in `seen` each literal that starts at `at` or the position
    /// before it in `bytes`, where the filter passed `key`, the bytes from
    /// `at` on (case bit set); whether any was not seen before.
    fn mark(&self, bytes: &[u8], at: usize, key: u32, seen: &mut [bool]) -> bool {
        let trigrams = self.trigrams.filed(trigram(key));
        let pairs = self.pairs.filed(key as u16);
        let mut new = false;
        for &(i, offset) in trigrams.iter().chain(pairs) {
            let here = at
                .checked_sub(offset)
                .is_some_and(|start| self.starts(&bytes[start..], i));
            new |= here && !seen[i];
            seen[i] |= here;
        }
        new
    }

    /// Whether literal `i` starts `rest`, by its own case rule.
    fn starts(&self, rest: &[u8], i: usize) -> bool {
        let (literal, fold) = self.literals[i];
        let head = &rest[..literal.len().min(rest.len())];
        if fold {
            head.eq_ignore_ascii_case(literal.as_bytes())
        } else {
            head == literal.as_bytes()
        }
    }

    /// Whether the filter lets the position whose next bytes (case bit set)
    /// are the low bytes of `key` through.
    fn passes(&self, key: u32) -> bool {
        self.trigrams.has(trigram(key)) | self.pairs.has(key as u16)
    }

    /// Whether any kind could match somewhere in `text`.
    fn possible(&self, text: &str) -> bool {
        // A pattern that ignores case folds Unicode case: `ſ` (U+017F) is an
        // `s` to it and the Kelvin sign (U+212A) a `k`, the only characters
        // outside ASCII that fold to ASCII letters. The literals compare ASCII
        // only, so text holding either goes to the patterns whole.
        if folds_to_ascii(text) {
            return true;
        }
        // Allocated where the filter first passes: most texts never get there.
        let mut seen = Vec::new();
        let mut chars = Vec::new();
        let bytes = text.as_bytes();
        self.scan(bytes, |at, key| {
            if seen.is_empty() {
                seen.resize(self.literals.len(), false);
            }
            self.mark(bytes, at, key, &mut seen) && self.satisfied(text, &seen, &mut chars)
        })
    }

    /// Calls `found` with each even position of `bytes` the filter passes,
    /// and its key, in order, until it returns `true`; whether it did.
    fn scan(&self, bytes: &[u8], mut found: impl FnMut(usize, u32) -> bool) -> bool {
        // Eight bytes at a time give the keys of three positions; they are
        // all looked up before any is looked at.
        let mut at = 0;
        while at + 8 <= bytes.len() {
            let word = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
                | 0x2020_2020_2020_2020;
            let key = |shift: usize| (word >> (8 * shift)) as u32;
            let passed = [0, 2, 4].map(|shift| self.passes(key(shift)));
            for (shift, passed) in [0, 2, 4].into_iter().zip(passed) {
                if passed && found(at + shift, key(shift)) {
                    return true;
                }
            }
            at += 6;
        }
        // The last positions, whose keys run past the end of the text: the
        // bytes missing are zero, which no literal holds.
        while at + 1 < bytes.len() {
            let mut key = [0u8; 4];
            for (k, b) in key.iter_mut().zip(&bytes[at..]) {
                *k = b | 0x20;
            }
            let key = u32::from_le_bytes(key);
            if self.passes(key) && found(at, key) {
                return true;
            }
            at += 2;
        }
        false
    }

    /// Whether the literals seen so far satisfy every group of some kind.
    /// `chars` remembers which single characters the text holds.
    fn satisfied(&self, text: &str, seen: &[bool], chars: &mut Vec<(char, bool)>) -> bool {
        let mut present = |literal: &Literal| match *literal {
            Literal::Scanned(i) => seen[i],
            Literal::Char(c) => match chars.iter().find(|(k, _)| *k == c) {
                Some(&(_, held)) => held,
                None => {
                    let held = text.contains(c);
                    chars.push((c, held));
                    held
                }
            },
        };
        self.kinds
            .iter()
            .any(|groups| groups.iter().all(|any| any.iter().any(&mut present)))
    }
}

/// One regex finds every secret in a single pass; a set of the same patterns,
/// anchored, then names the kind of each (short) match. Resolving the kind
/// with capture groups instead would run a slow engine over every match.
/// A literal prefilter first skips text in which no kind can match; the
/// patterns are compiled only once some text gets past it, so a server whose
/// output holds nothing like a secret never holds them in memory.
struct Redactor {
    regex: Regex,
    kinds: RegexSet,
}

static PREFILTER: LazyLock<Prefilter> = LazyLock::new(Prefilter::new);

static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| {
    let alternatives: Vec<String> = KINDS
        .iter()
        .map(|(_, pattern)| format!("(?:{})", ascii_boundaries(pattern)))
        .collect();
    let regex = Regex::new(&alternatives.join("|")).expect("the secret patterns compile");
    let anchored = KINDS
        .iter()
        .map(|(_, pattern)| format!("^(?:{})$", ascii_boundaries(pattern)));
    let kinds = RegexSet::new(anchored).expect("the secret patterns compile");
    Redactor { regex, kinds }
});

/// `\b` as an ASCII word boundary: Unicode boundaries would push the regex
/// engine off its DFA whenever the text holds a non-ASCII character.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// Redacts every known secret kind in one pass over `text`.
pub fn redact(text: &str) -> Redacted {
    match redact_cow(text) {
        (Cow::Borrowed(text), findings) => Redacted {
            text: text.to_owned(),
            findings,
        },
        (Cow::Owned(text), findings) => Redacted { text, findings },
    }
}

/// [`redact`] without copying text that holds no secret.
pub fn redact_cow(text: &str) -> (Cow<'_, str>, Vec<String>) {
    let (mut text, mut findings) = redact_kinds(text);
    // Then the kinds the application added, and the secrets this process
    // registered, whatever their shape (after the kinds, so a registered
    // value cannot hide the context a kind is recognised by).
    if let Some((redacted, more)) = added::current().and_then(|a| a.redact(&text)) {
        findings.extend(more);
        text = Cow::Owned(redacted);
    }
    if let Some((scrubbed, more)) = registered::current().and_then(|r| r.scrub(&text)) {
        findings.extend(more);
        text = Cow::Owned(scrubbed);
    }
    (text, findings)
}

fn redact_kinds(text: &str) -> (Cow<'_, str>, Vec<String>) {
    let mut findings = Vec::new();
    if !PREFILTER.possible(text) {
        return (Cow::Borrowed(text), findings);
    }
    let Redactor { regex, kinds } = &*REDACTOR;
    let mut out = String::new();
    let mut last = 0;
    let mut at = 0;
    while let Some(m) = regex.find_at(text, at) {
        // Leftmost-first: the earliest kind that matches exactly this span is
        // the alternative that produced it.
        let kind = kinds
            .matches(m.as_str())
            .iter()
            .next()
            .map(|index| KINDS[index].0)
            .filter(|kind| !is_code(kind, text, m.end()) && !implausible(kind, m.as_str()));
        let Some(kind) = kind else {
            // Not a secret as a whole: what it spans is searched again from
            // one char on, so a secret inside it is still found.
            at = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
            continue;
        };
        at = m.end();
        out.push_str(&text[last..m.start()]);
        out.push_str("[REDACTED:");
        out.push_str(kind);
        out.push(']');
        last = m.end();
        findings.push(format!("secret:redacted {kind}"));
    }
    if findings.is_empty() {
        return (Cow::Borrowed(text), findings);
    }
    out.push_str(&text[last..]);
    (Cow::Owned(out), findings)
}

pub use added::{KindError, add_kind};
pub use registered::{MIN_REGISTERED_BYTES, RegisterError, register, register_env};

/// Kinds an application adds to the built-in ones, each with a sample and a
/// near miss checked when it is added.
mod added {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, PoisonError, RwLock};

    use regex::Regex;

    use super::{KINDS, ascii_boundaries, redact};

    /// Why a kind was not added.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct KindError(String);

    impl std::fmt::Display for KindError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for KindError {}

    pub(super) struct Added {
        kinds: Vec<(String, Regex)>,
    }

    static ANY: AtomicBool = AtomicBool::new(false);
    static ADDED: RwLock<Option<Arc<Added>>> = RwLock::new(None);

    pub(super) fn current() -> Option<Arc<Added>> {
        if !ANY.load(Ordering::Acquire) {
            return None;
        }
        ADDED.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Adds the secret kind `kind` (lowercase letters, digits and `_`; not a
    /// built-in name), found by `pattern`, for the whole process. `sample`
    /// must then be redacted as `kind`, and `near_miss` must come through
    /// unchanged, or the kind is not added: the same checks every built-in
    /// kind passes.
    pub fn add_kind(
        kind: &str,
        pattern: &str,
        sample: &str,
        near_miss: &str,
    ) -> Result<(), KindError> {
        let refused = |why: String| Err(KindError(format!("secret kind {kind:?}: {why}")));
        if kind.is_empty()
            || !kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return refused("a name is lowercase letters, digits and `_`".into());
        }
        let regex = match Regex::new(&ascii_boundaries(pattern)) {
            Ok(regex) => regex,
            Err(e) => return refused(format!("the pattern does not compile: {e}")),
        };
        // A pattern that can match nothing at all would mark every position.
        if [sample, near_miss, "", " "]
            .iter()
            .any(|text| regex.find_iter(text).any(|m| m.is_empty()))
        {
            return refused("the pattern matches the empty string".into());
        }
        // Checked without the lock: the checks redact, and redacting reads it.
        let taken = |kinds: &[(String, Regex)]| {
            KINDS.iter().any(|(k, _)| *k == kind) || kinds.iter().any(|(k, _)| k == kind)
        };
        let mut kinds = current().map_or_else(Vec::new, |a| a.kinds.clone());
        if taken(&kinds) {
            return refused("the name is taken".into());
        }
        kinds.push((kind.to_owned(), regex.clone()));
        let candidate = Added { kinds };
        let marker = format!("[REDACTED:{kind}]");
        let built_in = redact(sample).text;
        let redacted = candidate
            .redact(&built_in)
            .map_or(built_in, |(text, _)| text);
        if !redacted.contains(&marker) {
            return refused(format!(
                "the sample is not redacted as this kind: {redacted:?}"
            ));
        }
        let kept = redact(near_miss).text;
        if kept != near_miss || candidate.redact(near_miss).is_some() {
            return refused("the near miss is redacted".into());
        }
        let mut slot = ADDED.write().unwrap_or_else(PoisonError::into_inner);
        let mut kinds = slot.as_ref().map_or_else(Vec::new, |a| a.kinds.clone());
        if taken(&kinds) {
            return refused("the name is taken".into());
        }
        kinds.push((kind.to_owned(), regex));
        *slot = Some(Arc::new(Added { kinds }));
        ANY.store(true, Ordering::Release);
        Ok(())
    }

    impl Added {
        /// `text` with every added kind redacted, in the order added, and
        /// the findings; `None` when none matched.
        pub(super) fn redact(&self, text: &str) -> Option<(String, Vec<String>)> {
            let mut current: Option<String> = None;
            let mut findings = Vec::new();
            for (kind, regex) in &self.kinds {
                let source = current.as_deref().unwrap_or(text);
                if !regex.is_match(source) {
                    continue;
                }
                let mut count = 0;
                let replaced = regex
                    .replace_all(source, |_: &regex::Captures<'_>| {
                        count += 1;
                        format!("[REDACTED:{kind}]")
                    })
                    .into_owned();
                findings.extend(std::iter::repeat_n(
                    format!("secret:redacted {kind}"),
                    count,
                ));
                current = Some(replaced);
            }
            current.map(|text| (text, findings))
        }
    }
}

/// Secrets a server holds and registers (the keys it calls upstream services
/// with, database passwords, keys from its environment): their exact values
/// and their common encodings never leave in an output or a log line,
/// whatever their shape. Registration is for the whole process.
mod registered {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, PoisonError, RwLock};

    use aho_corasick::{AhoCorasick, MatchKind};

    /// The shortest value accepted: a shorter one would be scrubbed out of
    /// ordinary words, and is no secret worth the name.
    pub const MIN_REGISTERED_BYTES: usize = 8;

    /// Why a value was not registered.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RegisterError(String);

    impl std::fmt::Display for RegisterError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }

    impl std::error::Error for RegisterError {}

    pub(super) struct Registered {
        values: Vec<String>,
        matcher: AhoCorasick,
    }

    static ANY: AtomicBool = AtomicBool::new(false);
    static REGISTERED: RwLock<Option<Arc<Registered>>> = RwLock::new(None);

    pub(super) fn current() -> Option<Arc<Registered>> {
        if !ANY.load(Ordering::Acquire) {
            return None;
        }
        REGISTERED
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Scrubs `value`, and its JSON-escaped, percent-encoded, hex and
    /// base64 forms (standard and URL-safe, at every alignment), from every
    /// text [`redact`](super::redact) sees from now on: tool output,
    /// structured content, refusals and audit records. Values shorter than
    /// [`MIN_REGISTERED_BYTES`] are refused.
    pub fn register(value: &str) -> Result<(), RegisterError> {
        if value.len() < MIN_REGISTERED_BYTES {
            return Err(RegisterError(format!(
                "a registered secret needs at least {MIN_REGISTERED_BYTES} bytes, this one has {}",
                value.len()
            )));
        }
        let mut slot = REGISTERED.write().unwrap_or_else(PoisonError::into_inner);
        let mut values = slot.as_ref().map_or_else(Vec::new, |r| r.values.clone());
        if values.iter().any(|v| v == value) {
            return Ok(());
        }
        values.push(value.to_owned());
        let mut forms: Vec<String> = values.iter().flat_map(|v| forms(v)).collect();
        forms.sort();
        forms.dedup();
        // Case aside: percent and hex escapes come in either case, and a
        // value in another case is no less a leak.
        let matcher = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .map_err(|e| RegisterError(format!("cannot search for registered secrets: {e}")))?;
        *slot = Some(Arc::new(Registered { values, matcher }));
        ANY.store(true, Ordering::Release);
        Ok(())
    }

    /// Registers the value of each environment variable of `names` that is
    /// set; how many were. A set value shorter than [`MIN_REGISTERED_BYTES`]
    /// is an error naming the variable, never its value.
    pub fn register_env(names: &[&str]) -> Result<usize, RegisterError> {
        let mut count = 0;
        for name in names {
            let Some(value) = std::env::var_os(name) else {
                continue;
            };
            let value = value.to_string_lossy();
            register(&value).map_err(|e| RegisterError(format!("{name}: {e}")))?;
            count += 1;
        }
        Ok(count)
    }

    impl Registered {
        /// `text` with every registered form replaced, and the findings;
        /// `None` when it holds none.
        pub(super) fn scrub(&self, text: &str) -> Option<(String, Vec<String>)> {
            let mut found = self.matcher.find_iter(text).peekable();
            found.peek()?;
            let mut out = String::with_capacity(text.len());
            let mut findings = Vec::new();
            let mut last = 0;
            for m in found {
                out.push_str(&text[last..m.start()]);
                out.push_str("[REDACTED:registered_secret]");
                findings.push("secret:redacted registered_secret".to_owned());
                last = m.end();
            }
            out.push_str(&text[last..]);
            Some((out, findings))
        }
    }

    /// The forms of `value` to scrub: as is, JSON-escaped, percent-encoded
    /// (upper- and lowercase hex), hex, and the base64 characters that depend
    /// on the value alone, at each of the three alignments it can take in a
    /// longer encoded text, in both alphabets.
    fn forms(value: &str) -> Vec<String> {
        use base64::Engine as _;
        let bytes = value.as_bytes();
        let mut forms = vec![value.to_owned()];
        let json = serde_json::to_string(value).unwrap_or_default();
        let json = json.trim_matches('"').to_owned();
        // Some encoders escape `/` as `\/`, or every non-alphanumeric as `\uXXXX`.
        forms.push(json.replace('/', "\\/"));
        let unicode: String = value
            .chars()
            .map(|c| match c {
                'A'..='Z' | 'a'..='z' | '0'..='9' => c.to_string(),
                _ if u32::from(c) <= 0xFFFF => format!("\\u{:04x}", u32::from(c)),
                _ => c.to_string(),
            })
            .collect();
        forms.push(unicode);
        forms.push(json);
        let percent: String = bytes
            .iter()
            .map(|&b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        // Query-string encoders that leave `/` alone, or write a space as `+`.
        forms.push(percent.replace("%2F", "/"));
        forms.push(percent.replace("%20", "+"));
        forms.push(percent);
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        forms.push(hex);
        for engine in [
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            for offset in 0..3usize {
                let mut shifted = vec![0u8; offset];
                shifted.extend_from_slice(bytes);
                let encoded = engine.encode(&shifted);
                let start = (offset * 8).div_ceil(6);
                let end = shifted.len() * 8 / 6;
                if end > start {
                    forms.push(encoded[start..end].to_owned());
                }
            }
        }
        forms.retain(|f| f.len() >= MIN_REGISTERED_BYTES);
        forms
    }
}

/// An assignment whose value is a call (`password = read_password()`) is code,
/// not a credential.
fn is_code(kind: &str, text: &str, end: usize) -> bool {
    matches!(kind, "password_assignment" | "api_key_assignment") && text[end..].starts_with('(')
}

/// The generic shapes whose value alone must look random: a key-naming word
/// is also followed by names, paths and placeholders.
const ENTROPY_CHECKED: &[&str] = &["license_key_assignment"];

/// The least Shannon entropy, in bits per character, of a value of a
/// generic shape that must look random (`license_key_assignment`) (random base64 has about 6, hex 4, a
/// `snake_case_name` under 3.5).
pub const MIN_ENTROPY_BITS: f64 = 3.5;

/// Whether a match of a generic shape holds a value that is no secret:
/// without both a letter and a digit, or below [`MIN_ENTROPY_BITS`].
fn implausible(kind: &str, matched: &str) -> bool {
    if !ENTROPY_CHECKED.contains(&kind) {
        return false;
    }
    let value = matched
        .trim_end_matches('=')
        .rsplit(['=', ':', '"', '\'', ' '])
        .next()
        .unwrap_or(matched);
    let letters = value.bytes().any(|b| b.is_ascii_alphabetic());
    let digits = value.bytes().any(|b| b.is_ascii_digit());
    !(letters && digits) || entropy(value) < MIN_ENTROPY_BITS
}

/// Shannon entropy of `value`'s bytes, in bits per byte.
fn entropy(value: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in value.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = value.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The same patterns applied one regex at a time: the baseline the single-pass
/// redactor is measured against, and a cross-check in tests.
pub fn redact_one_at_a_time(text: &str) -> Redacted {
    static EACH: LazyLock<Vec<(&str, Regex)>> = LazyLock::new(|| {
        KINDS
            .iter()
            .map(|(kind, p)| {
                (
                    *kind,
                    Regex::new(&ascii_boundaries(p)).expect("the secret patterns compile"),
                )
            })
            .collect()
    });
    let mut text = text.to_owned();
    let mut findings = Vec::new();
    for (kind, regex) in EACH.iter() {
        let mut count = 0;
        let source = text.clone();
        text = regex
            .replace_all(&source, |caps: &regex::Captures<'_>| {
                let m = caps.get(0).expect("group 0 always matches");
                if is_code(kind, &source, m.end()) || implausible(kind, m.as_str()) {
                    m.as_str().to_owned()
                } else {
                    count += 1;
                    format!("[REDACTED:{kind}]")
                }
            })
            .into_owned();
        findings.extend(std::iter::repeat_n(
            format!("secret:redacted {kind}"),
            count,
        ));
    }
    Redacted { text, findings }
}

/// Redacts every string inside a JSON value, in place; returns the findings.
pub fn redact_json(value: &mut serde_json::Value) -> Vec<String> {
    let mut findings = Vec::new();
    match value {
        serde_json::Value::String(s) => {
            if let (Cow::Owned(text), found) = redact_cow(s) {
                *s = text;
                findings = found;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                findings.extend(redact_json(item));
            }
        }
        serde_json::Value::Object(map) => {
            // Keys too: a map keyed by credential is still a leak.
            if map.keys().any(|k| matches!(redact_cow(k).0, Cow::Owned(_))) {
                for (key, mut item) in std::mem::take(map) {
                    let (key, found) = redact_cow(&key);
                    findings.extend(found);
                    findings.extend(redact_json(&mut item));
                    // Two keys redacted alike stay two entries.
                    let mut key = key.into_owned();
                    while map.contains_key(&key) {
                        key.push('\'');
                    }
                    map.insert(key, item);
                }
            } else {
                for item in map.values_mut() {
                    findings.extend(redact_json(item));
                }
            }
        }
        _ => {}
    }
    findings
}

#[cfg(test)]
#[path = "../tests/common/samples.rs"]
mod samples;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generic_shape_needs_a_value_that_looks_random() {
        for name in [
            "signing_key = load_signing_key_from_the_vault",
            "signing_key = aaaaaaaaaaaaaaaaaaaaaaaa1111",
            "master_key: ${MASTER_KEY_FROM_ENVIRONMENT}",
        ] {
            assert_eq!(redact(name).text, name);
        }
        let key = "signing_key = 7Hq2vX9pLm4Rt8Kw1Zn6Yb3Jc5Fd0Ga";
        assert_eq!(
            redact(key).findings,
            ["secret:redacted license_key_assignment"]
        );
    }

    #[test]
    fn every_kind_is_in_exactly_one_group() {
        let mut grouped: Vec<&str> = GROUPS
            .iter()
            .flat_map(|(_, kinds)| kinds.iter().copied())
            .collect();
        let mut kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        grouped.sort_unstable();
        kinds.sort_unstable();
        assert_eq!(grouped, kinds);
    }

    #[test]
    fn every_kind_has_its_required_literals_in_order() {
        let kinds: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
        let required: Vec<&str> = REQUIRED.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, required);
        for (kind, groups) in REQUIRED {
            assert!(!groups.is_empty(), "{kind} has no required literal");
        }
    }

    #[test]
    fn the_prefilter_passes_text_only_when_some_kind_could_match() {
        let prefilter = Prefilter::new();
        assert!(!prefilter.possible("the quick brown fox, https://example.com/x?a=1"));
        assert!(prefilter.possible("db postgres://app:pw@db/app"));
        assert!(prefilter.possible("PASSWORD = x"));
        assert!(!prefilter.possible("a password, said plainly"));
    }

    /// [`Prefilter::possible`] without the filter: every position is
    /// compared against every literal.
    fn possible_exhaustive(prefilter: &Prefilter, text: &str) -> bool {
        let mut seen = vec![false; prefilter.literals.len()];
        let mut chars = Vec::new();
        let bytes = text.as_bytes();
        (0..bytes.len()).any(|at| {
            let mut new = false;
            for (i, seen) in seen.iter_mut().enumerate() {
                let here = prefilter.starts(&bytes[at..], i);
                new |= here && !*seen;
                *seen |= here;
            }
            new && prefilter.satisfied(text, &seen, &mut chars)
        })
    }

    #[test]
    fn the_filter_passes_every_position_a_literal_starts_at() {
        let prefilter = Prefilter::new();
        let mut checked = 0;
        // Every literal, in either case, at every offset of a word, inside
        // the text and at its very end, where the filter's keys run past it.
        for (i, &(literal, fold)) in prefilter.literals.iter().enumerate() {
            let upper = literal.to_ascii_uppercase();
            for cased in [literal, if fold { &upper } else { literal }] {
                for pad in 0..13 {
                    for tail in ["", "z", "zzzzzzzzzzzz"] {
                        let text = format!(
                            "{}{}{cased}{tail}",
                            "\u{e9}".repeat(pad / 2),
                            "y".repeat(pad % 2)
                        );
                        let mut marked = vec![false; prefilter.literals.len()];
                        let bytes = text.as_bytes();
                        prefilter.scan(bytes, |at, key| {
                            prefilter.mark(bytes, at, key, &mut marked);
                            false
                        });
                        assert!(marked[i], "{literal:?} in {text:?}");
                        checked += 1;
                    }
                }
            }
        }
        for (_, positive, negative) in samples::SAMPLES {
            for text in [positive, negative] {
                let text = format!("Ünïcode {text} PassWord = x");
                let bounds: Vec<usize> = (0..=text.len())
                    .filter(|i| text.is_char_boundary(*i))
                    .collect();
                for (n, &start) in bounds.iter().enumerate() {
                    for &end in &bounds[n..] {
                        if start % 7 == 0 && (end % 5 == 0 || end == text.len()) {
                            let window = &text[start..end];
                            assert_eq!(
                                prefilter.possible(window),
                                possible_exhaustive(&prefilter, window),
                                "{window:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn a_pattern_needs_no_digit_its_literals_do_not_name() {
        // `\d` would take any Unicode digit, where the literals `0Q~`..`9Q~`
        // name the ASCII ones: the prefilter and the pattern must agree.
        let text = format!("abc\u{663}Q~{}", "a".repeat(31));
        assert!(!PREFILTER.possible(&text));
        assert!(!REDACTOR.regex.is_match(&text), "{text}");
        let ascii = format!("abc3Q~{}", "a".repeat(31));
        assert!(PREFILTER.possible(&ascii));
        assert_eq!(
            redact(&ascii).findings,
            ["secret:redacted azure_ad_client_secret"]
        );
    }

    #[test]
    fn only_two_characters_outside_ascii_fold_to_ascii_letters() {
        let letter = Regex::new("(?i)^[a-z]$").unwrap();
        let folding: Vec<char> = ('\u{80}'..=char::MAX)
            .filter(|c| letter.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        assert_eq!(folding, ['\u{17F}', '\u{212A}']);
    }

    #[test]
    fn folding_characters_are_found_wherever_they_are_and_only_they() {
        // Other characters with the same lead bytes: `ő` (C5 91), `€` (E2 82 AC).
        let others = "\u{151}\u{20AC}";
        assert!(!folds_to_ascii(""));
        assert!(!folds_to_ascii(&others.repeat(100)));
        for folding in ["\u{17F}", "\u{212A}"] {
            for at in [0, 1, 63, 64, 65, 4095] {
                let mut text = "a".repeat(at);
                text.push_str(others);
                assert!(!folds_to_ascii(&text), "{at}");
                text.push_str(folding);
                assert!(folds_to_ascii(&text), "{folding:?} after {at}");
                text.push_str(others);
                assert!(folds_to_ascii(&text), "{folding:?} after {at}");
            }
        }
    }

    #[test]
    fn a_keyword_spelled_with_a_folding_character_is_still_redacted() {
        for text in [
            "pa\u{17F}\u{17F}word = hunter22xyz",
            "api_\u{212A}ey = Zx9Qw8Er7Ty6Ui5Op4As3",
        ] {
            let redacted = redact(text);
            assert!(!redacted.findings.is_empty(), "{text:?}: {}", redacted.text);
        }
    }

    #[test]
    fn json_keys_are_redacted_and_none_is_lost() {
        let mut value = serde_json::json!({
            "AKIAIOSFODNN7EXAMPLE": 1,
            "AKIAIOSFODNN7EXAMPLF": 2,
            "plain": "AKIAIOSFODNN7EXAMPLG"
        });
        let findings = redact_json(&mut value);
        assert_eq!(findings.len(), 3, "{findings:?}");
        let text = value.to_string();
        assert!(!text.contains("AKIA"), "{text}");
        assert_eq!(value.as_object().unwrap().len(), 3, "{text}");
    }
}
