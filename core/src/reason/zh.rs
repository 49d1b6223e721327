//! Every reason in Chinese (zh-CN), written from its code and parameters.

use super::*;

pub(super) fn render(r: &Reason) -> String {
    use Reason::*;
    // Literal syntax (operators, URL schemes, examples) comes from the reason's parameters.
    let p = r.params();
    let param = |k: &str| p.get(k).cloned().unwrap_or_default();
    match r {
        Required => "必填".into(),
        NotInteger => "必须是整数".into(),
        NotDecimal => "必须是数字，例如 1234.50".into(),
        TooManyDecimals { scale } => format!("最多 {scale} 位小数"),
        TooLarge { limit } => format!("绝对值必须小于 {limit}"),
        NotBoolean => "必须是“是”或“否”".into(),
        NotDate => "必须是日期（年-月-日）".into(),
        NotDatetime => format!("必须是日期时间，例如 {}", param("example")),
        NotEmail => "必须是有效的邮箱地址".into(),
        NotPhone => "必须是电话号码（数字、空格、+ - ( )）".into(),
        NotUrl => format!("必须是 {} 或 {} 开头的网址", param("http"), param("https")),
        NotAppPath => format!("必须是本系统的页面：{}", param("pages")),
        NotRecordId => "请选择一条记录".into(),
        NotUserId => "请选择一位用户".into(),
        NotOptionList => "必须是选项值的列表".into(),
        NotOption { value, .. } => {
            format!("“{value}”不是可选的值（可选：{}）", param("options"))
        }
        WrongType { expected } => expected.info().expects.1.into(),
        ContainsNul => "不能包含空字符".into(),
        TooLong { max } => format!("最多 {max} 个字符"),
        TooShort { min } => format!("至少 {min} 个字符"),
        AtLeast { min } => format!("不能小于 {min}"),
        AtMost { max } => format!("不能大于 {max}"),
        LengthBetween { min, max } => format!("长度必须是 {min} 到 {max} 个字符"),
        BytesBetween { min, max } => format!("长度必须是 {min} 到 {max} 个字节"),
        TooManyBytes { max } => format!("最多 {max} 个字节"),
        QueryTooLong { max } => format!("太长了（最多 {max} 个字节）"),
        TooManyAttachments { max } => format!("每条记录最多 {max} 个附件"),
        ContainsSpaces => "不能包含空格".into(),
        WrongPassword => "与当前密码不符".into(),
        SystemColumn => "由系统设置，不能修改".into(),
        NoField { entity, field } => format!("“{entity}”没有字段“{field}”"),
        Retired => "已停用：仍可查看，但不能再修改".into(),
        NoRole { role } => format!("没有名为“{role}”的角色"),
        NoTargetType { entity } => format!("目标类型“{entity}”不存在"),
        NoRecord { entity, id } => format!("没有编号为 {id} 的 {entity} 记录"),
        Unique { entity, id } => format!("已被 {entity} #{id} 使用"),
        OwnerOutOfScope => "只能把记录分配给你权限范围内的用户".into(),
        OwnerRequired => "需要负责人：否则这条记录将超出你的权限范围".into(),
        StaleVersion { current } => {
            format!("这条记录已更新到第 {current} 版；请重新加载后再修改")
        }
        StillReferenced {
            count,
            entity,
            field,
        } => format!(
            "仍有 {count} 条 {entity} 记录（字段 {field}）引用此记录；请先修改或删除这些记录"
        ),
        BadName => "必须是 1 到 40 个字符，只能包含小写字母、数字和下划线，并以字母开头".into(),
        Reserved { name } => format!("“{name}”是保留名称"),
        NeedsLabel => "需要英文或中文名称".into(),
        NeedsOptions => "选择字段至少需要一个选项".into(),
        BadOptionValue => "选项值的长度必须是 1 到 64 个字符".into(),
        BadColor => format!(
            "颜色须写作 {} 或 {}，例如 {}",
            param("short"),
            param("long"),
            param("example")
        ),
        DuplicateOption { value } => format!("选项“{value}”重复了"),
        OptionsNotAllowed => "只有选择字段才能设置选项".into(),
        NeedsTarget => "引用字段需要指定目标实体类型".into(),
        UnknownEntity { name } => format!("未知的实体类型“{name}”"),
        TargetNotAllowed => "只有引用字段才能指定目标".into(),
        ScaleTooLarge { max } => format!("最多 {max} 位"),
        ScaleNotAllowed => "只有小数字段才能设置小数位数".into(),
        BoundsNotAllowed { kind } => format!("{}字段不能设置最小值或最大值", kind.info().label.1),
        NotFiniteBound => "必须是有限的数字（文本字段为长度）".into(),
        MaxBelowMin => "不能小于最小值".into(),
        CannotBeUnique { kind } => format!("{}字段不能设为唯一", kind.info().label.1),
        Duplicate { name } => format!("“{name}”重复了"),
        NotTextField { name } => format!("“{name}”不是这个实体类型的文本字段"),
        NotSelectField { name } => format!("“{name}”不是这个实体类型的单选字段"),
        IndexSize => "索引必须包含 2 到 6 个字段".into(),
        NotIndexable { name } => format!("“{name}”不是这个实体类型中可建索引的字段"),
        NeedsTitle => "需要标题".into(),
        UnknownField { name } => format!("未知字段“{name}”"),
        PlacedTwice { name } => format!("“{name}”放置了两次"),
        EntityDefinedBy { name, origin } => format!("实体类型“{name}”已由 {origin} 定义"),
        FieldDefinedBy { origin } => format!("该字段已由 {origin} 定义"),
        OptionInUse { value } => format!("选项“{value}”仍被记录使用；请保留它，或先修改这些记录"),
        NotCustomField => "只有自定义字段可以停用；此字段请改为隐藏".to_string(),
        IncompatibleChange {
            entity,
            field,
            from,
            to,
        } => format!("“{entity}.{field}”将从 {from} 改为 {to}；已拒绝，否则已存的数据会丢失"),
        EntityExists { name } => format!("实体类型“{name}”已存在"),
        FieldExists { entity, field } => format!("“{entity}”已有字段“{field}”"),
        SharedValues { entity, field } => {
            format!("已有的 {entity} 记录在“{field}”上有重复的值")
        }
        AdminRoleStaysAdmin => "内置的管理员角色必须保留管理员权限".into(),
        ReadOnlyForRole => "您的角色对该字段只读，不能修改".into(),
        BadNumberFormat { example } => format!(
            "格式应由文字、日期部分 {} 和一个 {{seq}} 或 {{seq:4}}（补零到 4 位，最多 10 位）组成，最多 40 个字符，例如 {example}",
            crate::schema::NumberFormat::DATE_PARTS
        ),
        FormatNotAllowed => "只有自动编号字段可以设置格式".into(),
        UnknownCurrency { code } => {
            format!("“{code}”不是系统支持的货币代码（如人民币、美元、欧元、港元、日元、英镑）")
        }
        CurrencyNotAllowed => "只有货币金额字段可以设置币种".into(),
        NotCurrencyCodeField { name } => {
            format!("“{name}”不是该类型中选项均为货币代码的单选字段")
        }
        NoExchangeRate { code } => format!("没有 {code} 的汇率，请管理员在“汇率”中添加"),
        IsCompanyCurrency { code } => format!("{code} 是本位币，汇率恒为 1"),
        RatesInOldCurrency => {
            "现有汇率均按当前本位币填写：请先删除汇率，更换本位币后再按新本位币录入".into()
        }
        CurrencyAndCurrencyField => {
            "币种取自其他字段的金额不能再设置固定币种（该字段留空的记录按本位币计）".into()
        }
        FileFilledByUpload => "文件字段通过向记录上传文件来填写，不能设为必填，也不能有默认值".into(),
        NotAttached { id } => format!("#{id} 不是本记录的附件，请先把文件上传到该记录"),
        BadExpression { near } => format!(
            "在“{near}”附近不是有效的公式：只能使用数字、数值字段、加减乘除、括号以及函数 {}",
            crate::schema::Expression::FUNCTIONS
        ),
        ExpressionTooDeep { max } => format!("嵌套超过 {max} 层"),
        UnknownFunction { name } => format!(
            "没有函数“{name}”（可用的有 {}）",
            crate::schema::Expression::FUNCTIONS
        ),
        NotFormulaInput { name } => format!("引用的“{name}”不是该类型的整数、小数或百分比字段"),
        ExpressionNotAllowed => "只有公式字段可以设置表达式".into(),
        TooMany { max } => format!("已达到上限（{max} 个），请先删除一个"),
        TitleStaysVisible { field } => format!("“{field}”是记录的名称，不能隐藏"),
        RequiredStaysWritable { field } => {
            format!("“{field}”是必填字段且没有默认值：能新建这类记录的角色必须能填写它")
        }
        NoEntity { name } => format!("没有实体类型“{name}”"),
        BadWorkflow { detail } => format!("不是适用于该类型的流程：{detail}"),
        NoTransition { from, to } => {
            format!("您不能把状态从“{from}”改为“{to}”（请检查谁可以执行该流转及其条件）")
        }
        NeedsApproval { transition } => format!("“{transition}”需要审批：请用该流转的按钮提交审批"),
        ApprovalPending => "正在等待审批：审批完成前不能修改".into(),
        LockedInState { state } => format!("记录处于“{state}”状态时不能修改"),
        NotApprover => "您不是这一步的审批人".into(),
        NoApprover { step } => {
            format!("第 {step} 步审批没有可审批的人（负责人没有上级，或没有人具有该角色）")
        }
        SelfApproval => "这是您提交的审批，本步骤不允许自己审批".into(),
        MergeIntoItself => "这就是当前记录本身，请选择要合并的另一条记录".into(),
        FilterNeedsValue => format!("需要一个值（查找空值请用 {}）", param("syntax")),
        NeedsValue => "需要一个值".into(),
        NoContains { kind } => format!("“包含”不适用于{}字段", kind.info().label.1),
        MultiSelectOps => format!("多选字段只能使用以下运算符：{}", param("operators")),
        InListSize { max } => format!("需要 1 到 {max} 个以逗号分隔的值"),
        TooManyFilters { max } => format!("最多 {max} 个筛选条件"),
        TooManyFilterValues { max } => format!("所有筛选条件合计最多 {max} 个值"),
        BooleanOps => format!("是/否字段只能使用以下运算符：{}", param("operators")),
        NotSortable => "多选字段不能排序".into(),
        BadCursor => "不是这个列表的游标；请去掉它重新开始".into(),
        CursorSortMismatch => "这个游标属于另一种排序方式".into(),
        CursorDamaged => "游标已损坏".into(),
        NumberBetween { min, max } => format!("必须是 {min} 到 {max} 之间的数字"),
        NoSortField => "没有指定排序字段".into(),
        UnknownOperator => format!("未知的运算符；可用：{}", param("operators")),
        BadMetric { metric } => {
            format!("“{metric}”不是有效的统计项；可用：{}", param("forms"))
        }
        MetricCount { max } => format!("需要 1 到 {max} 个统计项"),
        TooManyGroupFields { max } => format!("最多按 {max} 个字段分组"),
        NotGroupable { kind } => format!("{}字段不能用于分组或统计", kind.info().label.1),
        NoSum { kind } => format!("{}字段不能求和", kind.info().label.1),
        SumTooLarge => "合计值太大".into(),
        TooManyGroups { max } => format!("分组超过 {max} 个；请缩小筛选范围"),
        PathNotUtf8 => format!("备份路径必须是有效的 {} 文本", param("encoding")),
        AdminOnly => "只有管理员可以设置".into(),
        ConditionChanged => "提交审批后记录已改变，不再满足该流转的条件：请驳回后重新提交".into(),
        NoMatch { entity, value } => format!("没有与“{value}”匹配的{entity}记录"),
        Ambiguous {
            entity,
            value,
            count,
        } => format!("“{value}”匹配到 {count} 条{entity}记录；请改用唯一字段匹配"),
        NotDateIn { format } => format!("不是 {format} 格式的日期"),
        UnknownDateFormat { formats } => format!("必须是以下格式之一：{formats}"),
        NoColumn { name } => format!("文件中没有“{name}”列"),
        KeyNotUnique { name } => {
            format!("“{name}”不是唯一字段；按键更新需要一个各记录都不相同的字段")
        }
        KeyEmpty => "用于更新匹配的键为空".into(),
        MappedTwice { name } => format!("“{name}”被两列同时填写"),
        Text(t) => t.clone(),
    }
}
