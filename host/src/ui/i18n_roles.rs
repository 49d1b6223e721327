//! The words of roles (permissions, scopes, field access) and of Studio's field types
//! (auto-number formats, formulas), in English and Simplified Chinese (see [`super::i18n`]).

/// `(key, en, zh-CN)`.
pub const ROLES: &[(&str, &str, &str)] = &[
    ("number_format", "Number format (auto-number)", "编号格式（自动编号）"),
    ("field_currency", "Currency (currency amount)", "币种（货币金额）"),
    ("field_currency_help", "The currency the field's amounts are in; the company currency unless chosen.", "该字段金额所用的币种；不选则为公司本位币。"),
    ("company_currency", "Company currency", "公司本位币"),
    ("company_currency_help", "Amounts of currency fields that name no currency of their own are in it.", "未指定币种的货币金额字段均以此币种计。"),
    ("formula_expression", "Expression (formula)", "计算公式（公式字段）"),
    ("formula_expression_help", "Number fields of this type by their names, numbers, + - * / and parentheses, round(x, 2), abs, min, max. An empty field counts as 0, a percent as its fraction; the result is kept up to date on every change.", "按字段名引用本类型的数值字段，可用数字、+ - * /、括号以及 round(x, 2)、abs、min、max。空字段按 0 计算，百分比按小数计算；每次修改后结果自动更新。"),
    ("number_format_help", "Text, {YYYY} {YY} {MM} {DD} and one {seq} or {seq:4} (4 digits); numbering starts again when the date part changes.", "文字、{YYYY} {YY} {MM} {DD} 以及一个 {seq} 或 {seq:4}（4 位数字）；日期部分变化时编号从 1 重新开始。"),
    ("perm_create", "Create", "新建"),
    ("perm_read", "Read", "查看"),
    ("perm_update", "Edit", "修改"),
    ("perm_delete", "Delete", "删除"),
    ("perm_scope", "Whose records", "数据范围"),
    ("field_access", "Field access", "字段权限"),
    ("field_access_help", "A hidden field does not exist for this role: it is not in records, lists, filters, sorting, totals, search, history, exports or forms, and the role cannot write it. A read-only field is shown but the role cannot change it. Administrators see and change every field.", "隐藏的字段对该角色而言不存在：记录、列表、筛选、排序、合计、搜索、历史、导出和表单中都不会出现，该角色也不能写入它。只读字段可以查看，但该角色不能修改。管理员可以查看和修改所有字段。"),
    ("field_editable", "Editable", "可编辑"),
    ("field_read_only", "Read-only", "只读"),
    ("field_hidden", "Hidden", "隐藏"),
    ("field", "Field", "字段"),
    ("back_to_roles", "Back to roles", "返回角色列表"),
    ("scope_own", "Own", "仅本人"),
    ("scope_team", "Team", "本团队"),
    ("scope_all", "Everyone's", "全部"),
];
