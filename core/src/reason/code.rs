//! The stable code and the parameters of every reason, and one example of each (for tests
//! that walk every code in every locale).

use super::*;
use std::collections::BTreeMap;

/// The pages a link inside the application may lead to (`Reason::NotAppPath`).
pub const APP_PAGES: &str = "/e/…, /p/…, /inbox, /";

impl Reason {
    /// The stable, snake_case code of this reason.
    pub fn code(&self) -> &'static str {
        use Reason::*;
        match self {
            Required => "required",
            NotInteger => "not_integer",
            NotDecimal => "not_decimal",
            TooManyDecimals { .. } => "too_many_decimals",
            TooLarge { .. } => "too_large",
            NotBoolean => "not_boolean",
            NotDate => "not_date",
            NotDatetime => "not_datetime",
            NotEmail => "not_email",
            NotPhone => "not_phone",
            NotUrl => "not_url",
            NotAppPath => "not_app_path",
            NotRecordId => "not_record_id",
            NotUserId => "not_user_id",
            NotOptionList => "not_option_list",
            NotOption { .. } => "not_option",
            WrongType { .. } => "wrong_type",
            ContainsNul => "contains_nul",
            TooLong { .. } => "too_long",
            TooShort { .. } => "too_short",
            AtLeast { .. } => "at_least",
            AtMost { .. } => "at_most",
            LengthBetween { .. } => "length_between",
            BytesBetween { .. } => "bytes_between",
            TooManyBytes { .. } => "too_many_bytes",
            QueryTooLong { .. } => "query_too_long",
            TooManyAttachments { .. } => "too_many_attachments",
            ContainsSpaces => "contains_spaces",
            WrongPassword => "wrong_password",
            SystemColumn => "system_column",
            NoField { .. } => "no_field",
            Retired => "retired",
            NoRole { .. } => "no_role",
            NoTargetType { .. } => "no_target_type",
            NoRecord { .. } => "no_record",
            Unique { .. } => "unique",
            OwnerOutOfScope => "owner_out_of_scope",
            OwnerRequired => "owner_required",
            StaleVersion { .. } => "stale_version",
            StillReferenced { .. } => "still_referenced",
            BadName => "bad_name",
            Reserved { .. } => "reserved",
            NeedsLabel => "needs_label",
            NeedsOptions => "needs_options",
            BadOptionValue => "bad_option_value",
            BadColor => "bad_color",
            DuplicateOption { .. } => "duplicate_option",
            OptionsNotAllowed => "options_not_allowed",
            NeedsTarget => "needs_target",
            UnknownEntity { .. } => "unknown_entity",
            TargetNotAllowed => "target_not_allowed",
            ScaleTooLarge { .. } => "scale_too_large",
            ScaleNotAllowed => "scale_not_allowed",
            BoundsNotAllowed { .. } => "bounds_not_allowed",
            NotFiniteBound => "not_finite_bound",
            MaxBelowMin => "max_below_min",
            CannotBeUnique { .. } => "cannot_be_unique",
            Duplicate { .. } => "duplicate",
            NotTextField { .. } => "not_text_field",
            NotSelectField { .. } => "not_select_field",
            IndexSize => "index_size",
            NotIndexable { .. } => "not_indexable",
            NeedsTitle => "needs_title",
            UnknownField { .. } => "unknown_field",
            PlacedTwice { .. } => "placed_twice",
            EntityDefinedBy { .. } => "entity_defined_by",
            FieldDefinedBy { .. } => "field_defined_by",
            OptionInUse { .. } => "option_in_use",
            NotCustomField => "not_custom_field",
            IncompatibleChange { .. } => "incompatible_change",
            EntityExists { .. } => "entity_exists",
            FieldExists { .. } => "field_exists",
            SharedValues { .. } => "shared_values",
            AdminRoleStaysAdmin => "admin_role_stays_admin",
            ReadOnlyForRole => "read_only_for_role",
            BadNumberFormat { .. } => "bad_number_format",
            FormatNotAllowed => "format_not_allowed",
            UnknownCurrency { .. } => "unknown_currency",
            CurrencyNotAllowed => "currency_not_allowed",
            NotCurrencyCodeField { .. } => "not_currency_code_field",
            NoExchangeRate { .. } => "no_exchange_rate",
            IsCompanyCurrency { .. } => "is_company_currency",
            CurrencyAndCurrencyField => "currency_and_currency_field",
            RatesInOldCurrency => "rates_in_old_currency",
            FileFilledByUpload => "file_filled_by_upload",
            NotAttached { .. } => "not_attached",
            BadExpression { .. } => "bad_expression",
            ExpressionTooDeep { .. } => "expression_too_deep",
            UnknownFunction { .. } => "unknown_function",
            NotFormulaInput { .. } => "not_formula_input",
            ExpressionNotAllowed => "expression_not_allowed",
            TooMany { .. } => "too_many",
            TitleStaysVisible { .. } => "title_stays_visible",
            RequiredStaysWritable { .. } => "required_stays_writable",
            NoEntity { .. } => "no_entity",
            BadWorkflow { .. } => "bad_workflow",
            NoTransition { .. } => "no_transition",
            NeedsApproval { .. } => "needs_approval",
            ApprovalPending => "approval_pending",
            LockedInState { .. } => "locked_in_state",
            NotApprover => "not_approver",
            NoApprover { .. } => "no_approver",
            SelfApproval => "self_approval",
            MergeIntoItself => "merge_into_itself",
            AdminOnly => "admin_only",
            ConditionChanged => "condition_changed",
            NoMatch { .. } => "no_match",
            Ambiguous { .. } => "ambiguous",
            NotDateIn { .. } => "not_date_in",
            UnknownDateFormat { .. } => "unknown_date_format",
            NoColumn { .. } => "no_column",
            KeyNotUnique { .. } => "key_not_unique",
            KeyEmpty => "key_empty",
            MappedTwice { .. } => "mapped_twice",
            FilterNeedsValue => "filter_needs_value",
            NeedsValue => "needs_value",
            NoContains { .. } => "no_contains",
            MultiSelectOps => "multi_select_ops",
            InListSize { .. } => "in_list_size",
            TooManyFilters { .. } => "too_many_filters",
            TooManyFilterValues { .. } => "too_many_filter_values",
            BooleanOps => "boolean_ops",
            NotSortable => "not_sortable",
            BadCursor => "bad_cursor",
            CursorSortMismatch => "cursor_sort_mismatch",
            CursorDamaged => "cursor_damaged",
            NumberBetween { .. } => "number_between",
            NoSortField => "no_sort_field",
            UnknownOperator => "unknown_operator",
            BadMetric { .. } => "bad_metric",
            MetricCount { .. } => "metric_count",
            TooManyGroupFields { .. } => "too_many_group_fields",
            NotGroupable { .. } => "not_groupable",
            NoSum { .. } => "no_sum",
            SumTooLarge => "sum_too_large",
            TooManyGroups { .. } => "too_many_groups",
            PathNotUtf8 => "path_not_utf8",
            Text(_) => "text",
        }
    }

    /// The parameters of this reason, by name, as text. Literal syntax a message quotes
    /// (operators, URL schemes, an example value) is a parameter too, so that a translation
    /// can quote it unchanged.
    pub fn params(&self) -> BTreeMap<&'static str, String> {
        use Reason::*;
        let s = |v: &dyn ToString| v.to_string();
        let pairs: Vec<(&'static str, String)> = match self {
            TooManyDecimals { scale } => vec![("scale", s(scale))],
            TooLarge { limit } => vec![("limit", s(limit))],
            NotDatetime => vec![("example", DATETIME_EXAMPLE.into())],
            NotUrl => vec![("http", "http://".into()), ("https", "https://".into())],
            NotAppPath => vec![("pages", APP_PAGES.into())],
            NotOption { value, options } => {
                vec![("value", value.clone()), ("options", options.join(", "))]
            }
            WrongType { expected: kind }
            | BoundsNotAllowed { kind }
            | CannotBeUnique { kind }
            | NoContains { kind }
            | NotGroupable { kind }
            | NoSum { kind } => vec![("type", kind.as_str().into())],
            TooLong { max }
            | TooManyBytes { max }
            | QueryTooLong { max }
            | TooManyAttachments { max }
            | InListSize { max }
            | TooManyFilters { max }
            | TooManyFilterValues { max }
            | MetricCount { max }
            | TooManyGroupFields { max }
            | TooManyGroups { max } => vec![("max", s(max))],
            TooShort { min } | AtLeast { min } => vec![("min", min.clone())],
            AtMost { max } => vec![("max", max.clone())],
            LengthBetween { min, max } | BytesBetween { min, max } | NumberBetween { min, max } => {
                vec![("min", s(min)), ("max", s(max))]
            }
            NoField { entity, field }
            | FieldExists { entity, field }
            | SharedValues { entity, field } => {
                vec![("entity", entity.clone()), ("field", field.clone())]
            }
            NoRole { role } => vec![("role", role.clone())],
            BadExpression { near } => vec![
                ("near", near.clone()),
                ("functions", crate::schema::Expression::FUNCTIONS.into()),
            ],
            ExpressionTooDeep { max } => vec![("max", max.to_string())],
            UnknownFunction { name } => vec![
                ("name", name.clone()),
                ("functions", crate::schema::Expression::FUNCTIONS.into()),
            ],
            NotFormulaInput { name } => vec![("name", name.clone())],
            TooMany { max } => vec![("max", max.to_string())],
            UnknownCurrency { code } => vec![("code", code.clone())],
            NotCurrencyCodeField { name } => vec![("name", name.clone())],
            NoExchangeRate { code } | IsCompanyCurrency { code } => vec![("code", code.clone())],
            NotAttached { id } => vec![("id", id.to_string())],
            BadNumberFormat { example } => vec![
                ("example", example.clone()),
                ("date_parts", crate::schema::NumberFormat::DATE_PARTS.into()),
                ("seq", "{seq}".into()),
                ("padded", "{seq:4}".into()),
            ],
            TitleStaysVisible { field } | RequiredStaysWritable { field } => {
                vec![("field", field.clone())]
            }
            NoTargetType { entity } => vec![("entity", entity.clone())],
            NoRecord { entity, id } | Unique { entity, id } => {
                vec![("entity", entity.clone()), ("id", s(id))]
            }
            StaleVersion { current } => vec![("current", s(current))],
            StillReferenced {
                count,
                entity,
                field,
            } => vec![
                ("count", s(count)),
                ("entity", entity.clone()),
                ("field", field.clone()),
            ],
            Reserved { name }
            | UnknownEntity { name }
            | Duplicate { name }
            | NotTextField { name }
            | NotSelectField { name }
            | NotIndexable { name }
            | UnknownField { name }
            | PlacedTwice { name }
            | EntityExists { name }
            | NoEntity { name } => vec![("name", name.clone())],
            BadWorkflow { detail } => vec![("detail", detail.clone())],
            NoTransition { from, to } => vec![("from", from.clone()), ("to", to.clone())],
            NeedsApproval { transition } => vec![("transition", transition.clone())],
            LockedInState { state } => vec![("state", state.clone())],
            NoApprover { step } => vec![("step", s(step))],
            DuplicateOption { value } | OptionInUse { value } => vec![("value", value.clone())],
            ScaleTooLarge { max } => vec![("max", s(max))],
            EntityDefinedBy { name, origin } => {
                vec![("name", name.clone()), ("origin", origin.clone())]
            }
            FieldDefinedBy { origin } => vec![("origin", origin.clone())],
            IncompatibleChange {
                entity,
                field,
                from,
                to,
            } => vec![
                ("entity", entity.clone()),
                ("field", field.clone()),
                ("from", from.clone()),
                ("to", to.clone()),
            ],
            FilterNeedsValue => vec![("syntax", "[null]=true".into())],
            MultiSelectOps => vec![("operators", "contains, null".into())],
            BooleanOps => vec![("operators", "eq, ne, null".into())],
            UnknownOperator => vec![("operators", OPERATORS.into())],
            BadMetric { metric } => {
                vec![("metric", metric.clone()), ("forms", METRIC_FORMS.into())]
            }
            PathNotUtf8 => vec![("encoding", "UTF-8".into())],
            NoMatch { entity, value } => vec![("entity", entity.clone()), ("value", value.clone())],
            Ambiguous {
                entity,
                value,
                count,
            } => vec![
                ("entity", entity.clone()),
                ("value", value.clone()),
                ("count", s(count)),
            ],
            NotDateIn { format } => vec![("format", format.clone())],
            UnknownDateFormat { formats } => vec![("formats", formats.clone())],
            NoColumn { name } | KeyNotUnique { name } | MappedTwice { name } => {
                vec![("name", name.clone())]
            }
            BadColor => vec![
                ("short", "#rgb".into()),
                ("long", "#rrggbb".into()),
                ("example", "#2e7d32".into()),
            ],
            Text(t) => vec![("text", t.clone())],
            Required
            | NotInteger
            | NotDecimal
            | NotBoolean
            | NotDate
            | NotEmail
            | NotPhone
            | NotRecordId
            | NotUserId
            | NotOptionList
            | ContainsNul
            | ContainsSpaces
            | WrongPassword
            | SystemColumn
            | Retired
            | OwnerOutOfScope
            | OwnerRequired
            | BadName
            | NeedsLabel
            | NeedsOptions
            | BadOptionValue
            | OptionsNotAllowed
            | NeedsTarget
            | TargetNotAllowed
            | ScaleNotAllowed
            | NotFiniteBound
            | MaxBelowMin
            | IndexSize
            | NeedsTitle
            | AdminRoleStaysAdmin
            | ReadOnlyForRole
            | FormatNotAllowed
            | CurrencyNotAllowed
            | CurrencyAndCurrencyField
            | RatesInOldCurrency
            | FileFilledByUpload
            | ExpressionNotAllowed
            | NeedsValue
            | NotSortable
            | BadCursor
            | CursorSortMismatch
            | CursorDamaged
            | NoSortField
            | SumTooLarge
            | NotCustomField
            | ApprovalPending
            | NotApprover
            | SelfApproval
            | MergeIntoItself
            | AdminOnly
            | ConditionChanged
            | KeyEmpty => vec![],
        };
        pairs.into_iter().collect()
    }

    /// One value of every variant, for tests that walk every code (translations, say).
    pub fn examples() -> Vec<Reason> {
        use Reason::*;
        let name = || "region".to_string();
        vec![
            Required,
            NotInteger,
            NotDecimal,
            TooManyDecimals { scale: 2 },
            TooLarge {
                limit: 1_000_000_000_000,
            },
            NotBoolean,
            NotDate,
            NotDatetime,
            NotEmail,
            NotPhone,
            NotUrl,
            NotAppPath,
            NotRecordId,
            NotUserId,
            NotOptionList,
            NotOption {
                value: "robot".into(),
                options: vec!["lead".into(), "customer".into()],
            },
            WrongType {
                expected: FieldType::Decimal,
            },
            ContainsNul,
            TooLong { max: 500 },
            TooShort { min: "8".into() },
            AtLeast { min: "0".into() },
            AtMost { max: "10.5".into() },
            LengthBetween { min: 1, max: 100 },
            BytesBetween { min: 1, max: 200 },
            TooManyBytes { max: 65536 },
            QueryTooLong { max: 2000 },
            TooManyAttachments { max: 100 },
            ContainsSpaces,
            WrongPassword,
            SystemColumn,
            NoField {
                entity: "customer".into(),
                field: "bogus".into(),
            },
            Retired,
            NoRole {
                role: "boss".into(),
            },
            NoTargetType {
                entity: "vendor".into(),
            },
            NoRecord {
                entity: "customer".into(),
                id: 999,
            },
            Unique {
                entity: "customer".into(),
                id: 12,
            },
            OwnerOutOfScope,
            OwnerRequired,
            StaleVersion { current: 3 },
            StillReferenced {
                count: 2,
                entity: "contact".into(),
                field: "customer".into(),
            },
            BadName,
            Reserved { name: "id".into() },
            NeedsLabel,
            NeedsOptions,
            BadOptionValue,
            BadColor,
            DuplicateOption {
                value: "lead".into(),
            },
            OptionsNotAllowed,
            NeedsTarget,
            UnknownEntity {
                name: "vendor".into(),
            },
            TargetNotAllowed,
            ScaleTooLarge { max: 6 },
            ScaleNotAllowed,
            BoundsNotAllowed {
                kind: FieldType::Boolean,
            },
            NotFiniteBound,
            MaxBelowMin,
            CannotBeUnique {
                kind: FieldType::LongText,
            },
            Duplicate { name: name() },
            NotTextField { name: name() },
            NotSelectField { name: name() },
            IndexSize,
            NotIndexable {
                name: "notes".into(),
            },
            NeedsTitle,
            UnknownField { name: name() },
            PlacedTwice { name: name() },
            EntityDefinedBy {
                name: "customer".into(),
                origin: "plugin:sales".into(),
            },
            FieldDefinedBy {
                origin: "core".into(),
            },
            OptionInUse {
                value: "lead".into(),
            },
            NotCustomField,
            IncompatibleChange {
                entity: "customer".into(),
                field: "size".into(),
                from: "text".into(),
                to: "integer".into(),
            },
            EntityExists {
                name: "vendor".into(),
            },
            FieldExists {
                entity: "customer".into(),
                field: name(),
            },
            SharedValues {
                entity: "customer".into(),
                field: "email".into(),
            },
            AdminRoleStaysAdmin,
            ReadOnlyForRole,
            BadNumberFormat {
                example: "HT-{YYYY}-{seq:4}".into(),
            },
            FormatNotAllowed,
            UnknownCurrency { code: "XYZ".into() },
            CurrencyNotAllowed,
            NotCurrencyCodeField {
                name: "currency".into(),
            },
            NoExchangeRate { code: "USD".into() },
            IsCompanyCurrency { code: "CNY".into() },
            CurrencyAndCurrencyField,
            RatesInOldCurrency,
            FileFilledByUpload,
            NotAttached { id: 7 },
            BadExpression { near: "* 2".into() },
            ExpressionTooDeep { max: 32 },
            UnknownFunction {
                name: "system".into(),
            },
            NotFormulaInput {
                name: "name".into(),
            },
            ExpressionNotAllowed,
            TooMany { max: 200 },
            TitleStaysVisible {
                field: "name".into(),
            },
            RequiredStaysWritable {
                field: "sku".into(),
            },
            NoEntity {
                name: "vendor".into(),
            },
            BadWorkflow {
                detail: "no field 'x'".into(),
            },
            NoTransition {
                from: "draft".into(),
                to: "won".into(),
            },
            NeedsApproval {
                transition: "Win".into(),
            },
            ApprovalPending,
            LockedInState {
                state: "won".into(),
            },
            NotApprover,
            NoApprover { step: 1 },
            SelfApproval,
            MergeIntoItself,
            FilterNeedsValue,
            NeedsValue,
            NoContains {
                kind: FieldType::Integer,
            },
            MultiSelectOps,
            InListSize { max: 1000 },
            TooManyFilters { max: 50 },
            TooManyFilterValues { max: 10_000 },
            BooleanOps,
            NotSortable,
            BadCursor,
            CursorSortMismatch,
            CursorDamaged,
            NumberBetween { min: 1, max: 200 },
            NoSortField,
            UnknownOperator,
            BadMetric {
                metric: "avg:amount".into(),
            },
            MetricCount { max: 20 },
            TooManyGroupFields { max: 3 },
            NotGroupable {
                kind: FieldType::MultiSelect,
            },
            NoSum {
                kind: FieldType::Text,
            },
            SumTooLarge,
            TooManyGroups { max: 100_000 },
            AdminOnly,
            ConditionChanged,
            NoMatch {
                entity: "customer".into(),
                value: "杭州恒信".into(),
            },
            Ambiguous {
                entity: "customer".into(),
                value: "恒信".into(),
                count: 2,
            },
            NotDateIn {
                format: "DD-MM-YY".into(),
            },
            UnknownDateFormat {
                formats: "YYYY-MM-DD, DD-MM-YY".into(),
            },
            NoColumn {
                name: "Stage".into(),
            },
            KeyNotUnique {
                name: "name".into(),
            },
            KeyEmpty,
            MappedTwice { name: name() },
            PathNotUtf8,
            Text("客户已锁定".into()),
        ]
    }
}
