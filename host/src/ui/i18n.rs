//! Every string the web UI shows, in English and Simplified Chinese. Field and entity labels
//! come from the schema; these are the UI's own words.

use qingguan_core::Locale;
use std::collections::HashMap;
use std::sync::OnceLock;

/// `(key, en, zh-CN)`.
const CATALOG: &[(&str, &str, &str)] = &[
    ("app", "Qingguan", "轻管"),
    ("login", "Log in", "登录"),
    ("logout", "Log out", "退出"),
    ("username", "Username", "用户名"),
    ("password", "Password", "密码"),
    ("login_failed", "Wrong username or password.", "用户名或密码错误。"),
    ("login_throttled", "Too many failed logins. Please wait a moment and try again.", "登录失败次数过多，请稍后再试。"),
    ("home", "Home", "首页"),
    ("search", "Search", "搜索"),
    ("search_placeholder", "Search customers, contacts, deals…", "搜索客户、联系人、商机……"),
    ("no_results", "Nothing found.", "没有找到。"),
    ("new", "New", "新建"),
    ("edit", "Edit", "编辑"),
    ("delete", "Delete", "删除"),
    ("save", "Save", "保存"),
    ("cancel", "Cancel", "取消"),
    ("list", "List", "列表"),
    ("kanban", "Board", "看板"),
    ("filter", "Filter", "筛选"),
    ("any", "Any", "全部"),
    ("clear", "Clear", "清除"),
    ("next_page", "Next page", "下一页"),
    ("first_page", "First page", "第一页"),
    ("saved_views", "Saved views", "已保存视图"),
    ("save_view", "Save this view", "保存当前视图"),
    ("view_name", "View name", "视图名称"),
    ("history", "History", "变更记录"),
    ("related", "Related", "相关记录"),
    ("created", "created", "创建"),
    ("updated", "updated", "修改"),
    ("deleted", "deleted", "删除"),
    ("approval_requested", "asked for approval", "提交审批"),
    ("inbox", "Inbox", "通知"),
    ("export_csv", "Export CSV", "导出 CSV"),
    ("mark_all_read", "Mark all read", "全部标为已读"),
    ("inbox_empty", "Nothing new.", "没有新通知。"),
    ("note_waiting", "waiting for your approval", "等待您审批"),
    ("approved", "approved", "批准"),
    ("rejected", "rejected", "驳回"),
    ("workflow", "Workflow", "流程"),
    ("state", "State", "状态"),
    ("no_state", "none yet", "尚无"),
    ("needs_approval", "needs approval", "需要审批"),
    ("pending_approval", "Waiting for approval", "等待审批"),
    ("step", "Step", "步骤"),
    ("waiting_for", "Waiting for", "待审批人"),
    ("approve", "Approve", "批准"),
    ("reject", "Reject", "驳回"),
    ("comment", "Comment", "意见"),
    ("approvals_trail", "Approvals", "审批记录"),
    ("transition_refused", "The transition was refused:", "流转未执行："),
    ("decision_refused", "The decision was refused:", "审批未执行："),
    ("waiting_for_me", "Waiting for my approval", "待我审批"),
    ("workflows", "Workflows", "流程"),
    ("workflow_definition", "Workflow definition (JSON)", "流程定义（JSON）"),
    ("workflow_help", "States are the options of one select field. Each transition names where it leaves from, where it leads, who may make it (roles, owner, owner_manager, a user field), an optional condition on the record's fields and optional approval steps. A state lists the fields it requires and the fields it locks. The example below is a starting point.", "状态取自一个下拉字段的选项。每个流转指明从哪些状态出发、到达哪个状态、谁可以执行（角色、负责人、负责人的上级、某个用户字段）、可选的记录字段条件和可选的审批步骤。每个状态可列出进入时必填的字段和该状态下锁定的字段。下面的示例可作为起点。"),
    ("remove_workflow", "Remove workflow", "删除流程"),
    ("no_workflow", "No workflow yet.", "尚未定义流程。"),
    ("by", "by", "操作人"),
    ("system", "system", "系统"),
    ("owner", "Owner", "负责人"),
    ("updated_at", "Updated", "更新时间"),
    ("created_at", "Created", "创建时间"),
    ("id", "ID", "编号"),
    ("yes", "Yes", "是"),
    ("no", "No", "否"),
    ("fix_errors", "Please correct the fields marked below.", "请修改下面标出的字段。"),
    ("stale", "Someone else changed this record while you were editing. Your changes were not saved: the form now shows the current version — apply them again.", "在您编辑期间，其他人修改了这条记录。您的修改未保存：表单已显示最新版本，请重新修改。"),
    ("saved", "Saved.", "已保存。"),
    ("set_by_system", "Set by the system; it cannot be edited here.", "由系统自动填写，不能在此修改。"),
    ("forbidden", "You do not have permission to see this page.", "您没有权限查看此页面。"),
    ("not_found", "This page or record does not exist.", "页面或记录不存在。"),
    ("error", "Something went wrong", "出错了"),
    ("back_home", "Back to the home page", "返回首页"),
    ("admin", "Administration", "系统管理"),
    ("users", "Users", "用户"),
    ("roles", "Roles", "角色"),
    ("studio", "Studio", "自定义"),
    ("plugins", "Plugins", "插件"),
    ("language", "Language", "语言"),
    ("dashboard", "Dashboard", "工作台"),
    ("records", "records", "条记录"),
    ("by_status", "Customers by status", "客户状态分布"),
    ("my_open", "My records", "我的记录"),
    ("fields", "Fields", "字段"),
    ("add_field", "Add a field", "添加字段"),
    ("field_name", "Key (optional: made from the label)", "字段键（可留空，按标签生成）"),
    ("help_en", "Help (English)", "帮助说明（英文）"),
    ("help_zh", "Help (中文)", "帮助说明（中文）"),
    ("retire", "Retire", "停用"),
    ("retire_confirm", "Retire this field? It leaves forms and lists; its stored values are kept.", "停用此字段？它将从表单和列表中移除，已存数据会保留。"),
    ("field_type", "Type", "类型"),
    ("label_en", "Label (English)", "标签（英文）"),
    ("label_zh", "Label (中文)", "标签（中文）"),
    ("required", "Required", "必填"),
    ("hidden", "Hidden", "隐藏"),
    ("options_help", "Options, one per line: value | English | 中文 (add | #colour to mark a closed stage, such as won or lost: the board shows its last 30 days)", "选项，每行一个：值 | English | 中文（末尾加 | #颜色 表示已结束的阶段，如赢单、输单：看板默认只显示其最近 30 天）"),
    ("target", "Points to", "关联到"),
    ("origin", "Origin", "来源"),
    ("layout", "Form layout", "表单布局"),
    ("unretire", "Bring back", "恢复启用"),
    ("default_value", "Default value", "默认值"),
    ("new_section", "Add a section", "添加分区"),
    ("layout_drag_help", "Drag fields between sections, and sections by their title bar; rename a section in its title boxes. Saving writes the text below.", "拖动字段可在分区之间移动，拖动分区标题栏可调整分区顺序；在标题框中修改分区名称。保存时以下方文本为准。"),
    ("remove_section", "Remove section (its fields move to the one above)", "删除分区（其字段移到上一个分区）"),
    ("list_columns_help", "Tick the columns the list shows; the numbers (or dragging the rows) set their order.", "勾选列表要显示的列；用序号（或拖动行）调整顺序。"),
    ("order", "Order", "顺序"),
    ("layout_as_text", "Edit as text", "以文本编辑"),
    ("new_section_title", "New section", "新分区"),
    ("layout_as_editor", "Back to dragging", "返回拖动编辑"),
    ("kanban_showing_recent", "Won and lost columns show the last 30 days.", "赢单、输单等已结束的列只显示最近 30 天的记录。"),
    ("kanban_show_all", "Show all", "显示全部"),
    ("kanban_showing_all", "Showing every closed record.", "正在显示全部已结束的记录。"),
    ("kanban_show_recent", "Only the last 30 days", "只看最近 30 天"),
    ("layout_help", "One section per block: a line “# English title | 中文标题”, then one field name per line.", "每段以一行“# English title | 中文标题”开头，随后每行一个字段名。"),
    ("list_columns", "List columns", "列表列"),
    ("new_entity", "Create an entity type", "新建实体类型"),
    ("entity_name", "Key (optional: made from the label)", "键（可留空，按标签生成）"),
    ("apply", "Apply", "应用"),
    ("display_name", "Display name", "姓名"),
    ("role", "Role", "角色"),
    ("team", "Team", "团队"),
    ("active", "Active", "启用"),
    ("add_user", "Add a user", "添加用户"),
    ("status", "Status", "状态"),
    ("version", "Version", "版本"),
    ("versions", "Kept versions", "保留版本"),
    ("faults", "Recent faults", "近期故障"),
    ("last_attempt", "Last install attempt", "最近安装"),
    ("upload", "Install or upgrade (.wasm)", "安装或升级（.wasm）"),
    ("approve", "Approve the capabilities it requests", "批准其申请的权限"),
    ("enable", "Enable", "启用"),
    ("disable", "Disable", "停用"),
    ("rollback", "Roll back", "回滚"),
    ("remove", "Remove", "移除"),
    ("actions", "Actions", "操作"),
    ("pick", "Type to search…", "输入以搜索……"),
    ("conflict", "That did not work", "操作未完成"),
    ("drag_hint", "Drag a card to another column to change it.", "拖动卡片到其他列即可修改。"),
    ("permissions", "Permissions", "权限"),
    ("confirm_delete", "Delete this record?", "确定删除这条记录？"),
    ("operator", "Condition", "条件"),
    ("dismiss", "Dismiss", "忽略"),
    ("technical_detail", "Technical detail", "技术细节"),
    ("refused_not_component", "This file is not a Qingguan plugin (it is not a WebAssembly component). Check that you chose the right .wasm file.", "该文件不是轻管插件（不是 WebAssembly 组件）。请确认选择了正确的 .wasm 文件。"),
    ("refused_no_manifest", "This file carries no plugin description (manifest). If it was built with Python, JavaScript or another toolchain, choose its qingguan.toml below and upload again.", "该文件中没有插件说明（清单）。如果它是用 Python、JavaScript 等工具构建的，请在下方选择其 qingguan.toml 后重新上传。"),
    ("refused_manifest", "The plugin's description (manifest) is damaged or breaks a rule. Ask its developer for a corrected version.", "插件的说明（清单）有误或不符合规则。请向插件开发者索取修正后的版本。"),
    ("refused_sdk", "The plugin was built for another version of Qingguan. Ask its developer for a version that fits this server.", "该插件是为其他版本的轻管构建的。请向开发者索取适用于本服务器的版本。"),
    ("refused_approval", "The plugin asks for permissions that need your approval. Tick “Approve the capabilities it requests” and upload it again.", "该插件申请的权限需要您批准。请勾选“批准其申请的权限”后重新上传。"),
    ("refused_dependency", "The plugin needs other plugins (or other versions of them) that are not installed.", "该插件依赖尚未安装的其他插件（或其他版本）。"),
    ("refused_interface", "This server cannot run the plugin: it was built against a plugin interface this server does not provide.", "本服务器无法运行该插件：它所用的插件接口与本服务器不符。"),
    ("refused_other", "The plugin could not be installed; nothing was changed (a previous version keeps running).", "插件未能安装，未做任何更改（已有的旧版本继续运行）。"),
    ("pick_none", "No record matches “{text}”. Type part of its name and choose it from the list.", "没有与“{text}”匹配的记录。请输入名称的一部分，然后从列表中选择。"),
    ("pick_many", "Several records match “{text}”. Choose one from the list.", "有多条记录与“{text}”匹配，请从列表中选择一条。"),
    ("filter_value", "Value", "值"),
    ("perm_create", "Create", "新建"),
    ("perm_read", "Read", "查看"),
    ("perm_update", "Edit", "修改"),
    ("perm_delete", "Delete", "删除"),
    ("perm_scope", "Whose records", "数据范围"),
    ("scope_own", "Own", "仅本人"),
    ("scope_team", "Team", "本团队"),
    ("scope_all", "Everyone's", "全部"),
    ("other_types", "All other types", "其他所有类型"),
    ("all_permissions", "Administrator: every permission", "管理员：拥有全部权限"),
    ("no_permissions", "No access", "无权限"),
    ("plugin", "Plugin", "插件"),
    ("status_active", "Running", "运行中"),
    ("status_disabled", "Disabled", "已停用"),
    ("status_faulted", "Stopped after repeated faults", "因多次故障已停用"),
    ("status_failed", "Could not be loaded", "未能加载"),
    ("status_rejected", "Refused", "已拒绝"),
    ("status_installing", "Installing (compiling)…", "正在安装（编译中）……"),
    ("plugin_error", "The plugin is not running; the technical detail says why.", "插件未在运行，原因见技术细节。"),
    ("installed_in", "Installed in {ms} ms", "已安装，用时 {ms} 毫秒"),
    ("op_failed", "That did not work; nothing was changed.", "操作未完成，未做任何更改。"),
    ("choose_wasm", "Choose a .wasm file.", "请选择一个 .wasm 文件。"),
    ("unknown_type", "Choose a field type from the list.", "请从列表中选择字段类型。"),
    ("origin_core", "Built in", "系统内置"),
    ("origin_custom", "Custom", "自定义"),
    ("origin_plugin", "Plugin: {name}", "插件：{name}"),
    ("retired", "Retired (kept, read-only)", "已停用（保留，只读）"),
    ("no_role", "No such role.", "没有这个角色。"),
    ("options", "Options", "选项"),
    ("set_by_system_short", "set by the system", "系统填写"),
    ("confirm_disable", "Disable “{name}”? Its pages, menu entries and automatic steps stop until it is enabled again; its records are kept.", "停用“{name}”？在重新启用前，其页面、菜单和自动处理都将停止；数据会保留。"),
    ("confirm_rollback", "Roll “{name}” back to the previous kept version?", "将“{name}”回滚到上一个保留版本？"),
    ("confirm_remove", "Remove “{name}”? Its pages and menu entries disappear; its records are kept, read-only.", "移除“{name}”？其页面和菜单将消失；数据会保留（只读）。"),
    ("capabilities", "It asks to", "申请的权限"),
    ("jobs", "Scheduled jobs", "定时任务"),
    ("manifest_optional", "Its qingguan.toml (only for plugins built without the Rust SDK)", "插件的 qingguan.toml（仅用于非 Rust SDK 构建的插件）"),
    ("manifest_help", "A component built with componentize-py, jco or another toolchain carries no manifest; choose its qingguan.toml and it is embedded on upload.", "用 componentize-py、jco 等工具构建的组件不含清单；选择其 qingguan.toml，上传时会自动嵌入。"),
    ("job", "Job", "任务"),
    ("job_schedule", "Runs", "运行频率"),
    ("job_progress_head", "Latest run", "最近一次运行"),
    ("job_updated", "Last step", "最近一步"),
    ("job_never_ran", "Not run yet", "尚未运行"),
    ("job_running", "Running", "运行中"),
    ("job_finished", "Finished", "已完成"),
    ("job_failed", "Failed", "失败"),
    ("job_progress", "{done} done in {steps} steps", "已处理 {done}，共 {steps} 步"),
    ("job_progress_total", "{done} of {total} in {steps} steps", "{done} / {total}，共 {steps} 步"),
    ("run_now", "Run now", "立即运行"),
    ("every_hours", "every {n} h", "每 {n} 小时"),
    ("every_minutes", "every {n} min", "每 {n} 分钟"),
    ("every_seconds", "every {n} s", "每 {n} 秒"),
    ("cap_read", "read {list}", "读取：{list}"),
    ("cap_write", "change {list}", "修改：{list}"),
    ("cap_ask", "ask other plugins for figures: {list}", "向其他插件查询数据：{list}"),
    ("cap_all_types", "every record type", "所有类型的记录"),
    ("cap_all_plugins", "any plugin", "任何插件"),
    ("cap_kv", "keep its own settings and notes", "保存自己的设置与数据"),
    ("cap_emit", "announce events to other plugins", "向其他插件发送事件"),
    ("cap_elevate", "write with its own rights, beyond the signed-in user's (for workflow steps)", "以插件自身的权限写入，不受当前用户权限限制（用于流程步骤）"),
    ("builtin_plugins", "Built-in plugins", "内置插件"),
    ("builtin_help", "These plugins come with Qingguan. Installing one adds its record types, pages and menu entries; your data and customisations stay.", "这些插件随轻管一同提供。安装后会增加其记录类型、页面和菜单项；已有数据和自定义设置保持不变。"),
    ("builtin_install", "Install", "安装"),
    ("builtin_upgrade", "Upgrade", "升级"),
    ("builtin_installed", "installed:", "已安装："),
    ("builtin_needs", "Needs: {list}", "依赖：{list}"),
    ("builtin_unknown", "There is no built-in plugin called “{name}”.", "没有名为“{name}”的内置插件。"),
    ("approve_help", "A plugin that asks to change records, ask other plugins, keep data, send events or write with its own rights is installed only when you tick this. What each installed plugin asks for is listed in the table above.", "插件如申请修改记录、查询其他插件、保存数据、发送事件或以自身权限写入，只有勾选此项才会安装。每个已安装插件申请的权限列在上表中。"),
    ("op_eq", "equals", "等于"),
    ("op_ne", "does not equal", "不等于"),
    ("op_lt", "less than", "小于"),
    ("op_lte", "at most", "小于或等于"),
    ("op_gt", "greater than", "大于"),
    ("op_gte", "at least", "大于或等于"),
    ("op_contains", "contains", "包含"),
    ("op_in", "is one of (a,b,…)", "属于其中之一（a,b,…）"),
    ("op_null", "is empty", "为空"),
    ("change_owner", "Give it to", "转交给"),
    ("reassign", "Change owner", "更换负责人"),
    ("no_owner", "No owner", "无负责人"),
    ("stale_record", "Someone else changed this record meanwhile; nothing was changed. Look at it again and try once more.", "在此期间其他人修改了这条记录，未作任何更改。请查看最新内容后重试。"),
    ("still_referenced", "{count} {entity} record(s) still refer to it (field “{field}”); change or delete those first.", "仍有 {count} 条{entity}记录通过“{field}”引用它；请先修改或删除这些记录。"),
    ("delete_refused", "This record was not deleted.", "这条记录未被删除。"),
    ("action_refused", "The action was not carried out.", "操作未执行。"),
    ("refusal_plugin_failed", "The plugin failed while doing this; nothing was changed. If it happens again, tell your administrator.", "插件执行时出错，未作任何更改。如再次发生，请告知管理员。"),
    ("refusal_plugin_unavailable", "The plugin that does this is not running (disabled or failed); nothing was changed. Ask your administrator.", "执行此操作的插件未在运行（已停用或出错），未作任何更改。请联系管理员。"),
    ("refusal_busy", "The server is busy; nothing was changed. Please try again in a moment.", "服务器繁忙，未作任何更改。请稍后重试。"),
    ("refusal_other", "This change was refused; nothing was changed.", "此更改被拒绝，未作任何更改。"),
    ("stale_owner", "Someone else changed this record meanwhile; the owner was not changed. Look at it again and choose once more.", "在此期间其他人修改了这条记录，负责人未更换。请查看最新内容后重新选择。"),
    ("quick_new_contact", "New contact", "新建联系人"),
    ("quick_log_followup", "Log a follow-up", "记录跟进"),
    ("rename", "Rename", "重命名"),
    ("manage_view", "Rename or delete this view", "重命名或删除此视图"),
    ("confirm_delete_view", "Delete this saved view? The records stay as they are.", "删除此已保存视图？记录本身不受影响。"),
    ("view_not_found", "That saved view does not exist (or is not yours).", "该已保存视图不存在（或不属于您）。"),
    ("manager", "Manager", "上级"),
    ("no_manager", "No manager", "无上级"),
    ("new_password", "New password", "新密码"),
    ("reset_password", "Set password", "重设密码"),
    ("password_reset_done", "The password was set. That user's open sessions have ended; tell them the new password in person.", "密码已重设，该用户已登录的会话全部失效。请当面告知新密码。"),
    ("settings", "Settings", "系统设置"),
    ("default_language", "Default language", "默认语言"),
    ("default_language_help", "For people who chose no language and whose browser asks for neither English nor Chinese.", "适用于未选择语言、且浏览器语言既非中文也非英文的用户。"),
    ("time_zone", "Time zone (offset from UTC)", "时区（与世界标准时间的时差）"),
    ("time_zone_help", "Times are shown in it, written like +08:00 (China) or -05:00.", "所有时间按此时区显示，格式如 +08:00（中国）或 -05:00。"),
    ("bad_time_zone", "Write the offset from UTC like +08:00 or -05:30 (at most 14 hours).", "请按 +08:00 或 -05:30 的格式填写与世界标准时间的时差（不超过14小时）。"),
    ("choose_language", "Choose a language from the list.", "请从列表中选择一种语言。"),
    ("setup", "Create the first administrator", "创建首个管理员"),
    ("setup_help", "This install has no users yet. The account you create here administers it; this page disappears afterwards.", "本系统还没有任何用户。在此创建的账号将成为管理员；创建后此页面将不再可用。"),
    ("setup_done", "This install is already set up. Sign in, or ask an administrator for an account.", "系统已完成初始设置。请登录，或向管理员申请账号。"),
    ("password_again", "Password again", "再次输入密码"),
    ("passwords_differ", "The two passwords differ.", "两次输入的密码不一致。"),
    ("create_admin", "Create administrator", "创建管理员"),
    ("form_expired", "The form has expired. It has been loaded again: please fill it in once more.", "表单已过期，已重新载入，请重新填写。"),
];

type Table = HashMap<&'static str, &'static str>;

fn tables() -> &'static (Table, Table) {
    static T: OnceLock<(Table, Table)> = OnceLock::new();
    T.get_or_init(|| {
        (
            CATALOG.iter().map(|(k, en, _)| (*k, *en)).collect(),
            CATALOG.iter().map(|(k, _, zh)| (*k, *zh)).collect(),
        )
    })
}

/// The UI string `key` in `locale` (the key itself if missing, so gaps are visible).
pub fn t(locale: Locale, key: &str) -> String {
    let (en, zh) = tables();
    let table = if locale == Locale::ZhCn { zh } else { en };
    table
        .get(key)
        .map(|s| s.to_string())
        .unwrap_or_else(|| key.to_string())
}

/// The language Qingguan speaks that a browser prefers most (`Accept-Language`, by `q`, the
/// first listed on a tie), if it names one.
pub fn browser_language(header: Option<&str>) -> Option<Locale> {
    let mut best: Option<(f32, Locale)> = None;
    for part in header.unwrap_or("").split(',') {
        let mut bits = part.split(';');
        let Some(locale) = Locale::parse(bits.next().unwrap_or("")) else {
            continue;
        };
        let q = bits
            .find_map(|b| b.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, locale));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages() {
        for (k, en, zh) in CATALOG {
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
        }
        assert_eq!(t(Locale::ZhCn, "login"), "登录");
        assert_eq!(
            browser_language(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            Some(Locale::ZhCn)
        );
        assert_eq!(browser_language(Some("fr-FR, en;q=0.5")), Some(Locale::En));
        assert_eq!(
            browser_language(Some("en;q=0.3, zh-CN;q=0.9")),
            Some(Locale::ZhCn)
        );
        assert_eq!(browser_language(Some("fr-FR, de")), None);
        assert_eq!(browser_language(None), None);
    }
}
