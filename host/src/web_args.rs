//! The server's settings a command line (`serve`, `demo`) chooses beyond where it listens and
//! keeps its data: session cookies, trusted proxies and e-mail, made into a [`Config`].

use crate::Config;
use anyhow::Context;
use clap::Args;

/// How the server meets browsers and proxies, and where its e-mail goes.
#[derive(Debug, Args)]
pub(crate) struct WebArgs {
    /// Mark the session cookie `Secure` on every response (serve behind HTTPS). Without it
    /// the cookie is still `Secure` on requests a proxy forwards with
    /// `X-Forwarded-Proto: https`.
    #[arg(long, env = "QINGGUAN_SECURE_COOKIES")]
    secure_cookies: bool,
    /// A reverse proxy or load balancer in front of this server (an address or a network,
    /// e.g. 10.0.0.0/8; repeat it or separate by commas). Requests from it are taken to come
    /// from the client it names in X-Forwarded-For, so that login lockouts count per client.
    #[arg(
        long = "trusted-proxy",
        env = "QINGGUAN_TRUSTED_PROXIES",
        value_name = "ADDRESS/BITS",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<String>,
    #[command(flatten)]
    mail: MailArgs,
}

/// Where e-mail (invitations) goes out, and the address in its links.
#[derive(Debug, Args)]
pub(crate) struct MailArgs {
    /// SMTP server for e-mail: smtp://host:25, smtp://user:pass@host:587?tls=required or
    /// smtps://user:pass@host:465. Without it, invitation links are shown, not mailed.
    #[arg(long, env = "QINGGUAN_SMTP_URL")]
    smtp_url: Option<String>,
    /// The sender of e-mail.
    #[arg(
        long,
        env = "QINGGUAN_MAIL_FROM",
        default_value = "Qingguan <qingguan@localhost>"
    )]
    mail_from: String,
    /// The address people open this server at (https://crm.example.com), for links in e-mail.
    #[arg(long, env = "QINGGUAN_PUBLIC_URL")]
    public_url: Option<String>,
}

/// The server settings the command line chooses.
pub(crate) fn server_config(web: WebArgs) -> anyhow::Result<Config> {
    let WebArgs {
        secure_cookies,
        trusted_proxies,
        mail,
    } = web;
    let trusted_proxies = crate::proxies::TrustedProxies::parse(&trusted_proxies.join(","))
        .context("--trusted-proxy")?;
    let mail_settings = mail.smtp_url.map(|smtp_url| crate::mail::MailSettings {
        smtp_url,
        from: mail.mail_from,
    });
    if let Some(m) = &mail_settings {
        crate::mail::Mailer::new(m).map_err(anyhow::Error::msg)?;
    }
    Ok(Config {
        secure_cookies,
        trusted_proxies,
        mail: mail_settings,
        public_url: mail.public_url.map(|u| u.trim_end_matches('/').to_string()),
        ..Config::default()
    })
}
