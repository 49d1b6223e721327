//! The words of the inbox — delegation while away, mail, what each person hears of — in
//! English and Simplified Chinese (see [`super::i18n`]).

/// `(key, en, zh-CN)`.
pub const INBOX: &[(&str, &str, &str)] = &[
    ("delegation_title", "While I am away", "外出代理"),
    ("delegation_help", "Someone you choose decides the approvals waiting for you — those waiting now and those to come — until the day you give.", "由您指定的人代为审批等待您处理的事项（包括现有的和之后到来的），直到您设定的日期。"),
    ("delegation_to", "Decided by", "代理人"),
    ("delegation_until", "Until (inclusive)", "截止日期（含）"),
    ("delegation_set", "Hand over", "设置代理"),
    ("delegation_end", "End it now", "立即结束代理"),
    ("delegation_now", "Now decided for you by", "当前代理人："),
    ("mail_notifications", "Notifications are also sent to your e-mail.", "通知也会发送到您的邮箱。"),
    ("mail_notifications_off", "Notifications are not sent to your e-mail.", "通知不会发送到您的邮箱。"),
    ("mail_off", "Stop e-mails", "不再发邮件"),
    ("mail_on", "E-mail them to me", "发邮件给我"),
    ("choices_title", "What I hear of", "通知设置"),
    ("choices_help", "For each kind of notification: in the inbox and by e-mail, in the inbox only, or not at all.", "按通知类别选择：收件箱和邮件、仅收件箱，或不通知。"),
    ("choices_save", "Save", "保存"),
    ("notify_group_approvals", "Approvals waiting for me", "等待我审批的事项"),
    ("notify_group_decisions", "Decisions on my requests", "我的申请的审批结果"),
    ("notify_group_mentions", "Mentions of me", "提到我的内容"),
    ("notify_group_overdue", "My overdue activities", "我的逾期活动"),
    ("notify_group_plugins", "From plugins (low stock, announcements, reminders)", "来自插件（低库存、公告、提醒）"),
    ("notify_mail", "Inbox and e-mail", "收件箱和邮件"),
    ("notify_inbox", "Inbox only", "仅收件箱"),
    ("notify_off", "Not at all", "不通知"),
];
