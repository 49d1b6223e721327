//! Sending e-mail through the SMTP server an operator names (`--smtp-url`): `smtp://host:25`
//! (plain, for a relay on the same network), `smtp://user:pass@host:587?tls=required`
//! (STARTTLS) or `smtps://user:pass@host:465`. Without one nothing is mailed, and what would
//! have been (an invitation link) is shown to the administrator instead.

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};
use qingguan_core::Locale;

/// Where mail goes out and whom it is from.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server, as a URL.
    pub smtp_url: String,
    /// The sender (`Qingguan <crm@example.com>`).
    pub from: String,
}

/// A configured mail sender.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A sender from settings; refused with the reason when the URL or the sender do not read.
    pub fn new(settings: &MailSettings) -> Result<Mailer, String> {
        let transport = SmtpTransport::from_url(&settings.smtp_url)
            .map_err(|e| format!("--smtp-url: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("--mail-from: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends a plain-text message.
    pub fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to = to.parse::<Mailbox>().map_err(|e| e.to_string())?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| e.to_string())?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// An invitation as mailed, in the invitee's language: subject and body.
pub fn invitation(locale: Locale, name: &str, username: &str, link: &str) -> (String, String) {
    match locale {
        Locale::ZhCn => (
            "请设置您的轻管密码".to_string(),
            format!(
                "{name}，您好：\n\n您的轻管用户名：{username}。\n请在 7 天内打开以下链接设置密码（仅可使用一次；如非本人申请，可忽略此邮件）：\n\n{link}\n"
            ),
        ),
        Locale::En => (
            "Set your Qingguan password".to_string(),
            format!(
                "Hello {name},\n\nYour Qingguan username is {username}.\nSet your password within 7 days with this link (it works once; if you did not expect it, ignore this mail):\n\n{link}\n"
            ),
        ),
    }
}
