//! Every reason in English (its `Display`).

use super::*;
use std::fmt;

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Reason::*;
        match self {
            Required => f.write_str("is required"),
            NotInteger => f.write_str("must be a whole number"),
            NotDecimal => f.write_str("must be a decimal number such as 1234.50"),
            TooManyDecimals { scale } => write!(f, "at most {scale} decimal places"),
            TooLarge { limit } => write!(f, "must be less than {limit} in magnitude"),
            NotBoolean => f.write_str("must be true or false"),
            NotDate => f.write_str("must be a date YYYY-MM-DD"),
            NotDatetime => write!(f, "must be a date-time such as {DATETIME_EXAMPLE}"),
            NotEmail => f.write_str("must be an e-mail address"),
            NotPhone => f.write_str("must be a phone number (digits, spaces, + - ( ) only)"),
            NotUrl => f.write_str("must be an http:// or https:// address"),
            NotAppPath => write!(f, "must be a page of the application: {}", super::code::APP_PAGES),
            NotRecordId => f.write_str("must be a record id"),
            NotUserId => f.write_str("must be a user id"),
            NotOptionList => f.write_str("must be a list of option values"),
            NotOption { value, options } => {
                write!(f, "'{value}' is not one of: {}", options.join(", "))
            }
            WrongType { expected } => write!(f, "must be {}", expected.info().expects.0),
            ContainsNul => f.write_str("must not contain NUL characters"),
            TooLong { max } => write!(f, "must be at most {max} characters"),
            TooShort { min } => write!(f, "must be at least {min} characters"),
            AtLeast { min } => write!(f, "must be at least {min}"),
            AtMost { max } => write!(f, "must be at most {max}"),
            LengthBetween { min, max } => write!(f, "must be {min}-{max} characters"),
            BytesBetween { min, max } => write!(f, "must be {min}-{max} bytes"),
            TooManyBytes { max } => write!(f, "at most {max} bytes"),
            QueryTooLong { .. } => f.write_str("too long"),
            TooManyAttachments { max } => write!(f, "a record keeps at most {max} files"),
            ContainsSpaces => f.write_str("must not contain spaces"),
            WrongPassword => f.write_str("is not your current password"),
            SystemColumn => f.write_str("is set by the system and cannot be written"),
            NoField { entity, field } => write!(f, "'{entity}' has no field '{field}'"),
            Retired => f.write_str("is retired: kept for reading, no longer writable"),
            NoRole { role } => write!(f, "no role '{role}'"),
            NoTargetType { entity } => write!(f, "target type '{entity}' does not exist"),
            NoRecord { entity, id } => write!(f, "no {entity} with id {id}"),
            Unique { entity, id } => write!(f, "already used by {entity} #{id}"),
            OwnerOutOfScope => f.write_str("you may only assign records within your scope"),
            OwnerRequired => {
                f.write_str("needs an owner: without one the record would leave your scope")
            }
            StaleVersion { current } => write!(
                f,
                "the record is at version {current}; reload it and apply your change again"
            ),
            StillReferenced {
                count,
                entity,
                field,
            } => write!(
                f,
                "still referenced by {count} {entity} record(s) (field '{field}'); change or delete those first"
            ),
            BadName => {
                f.write_str("must be 1-40 characters of a-z, 0-9 and _, starting with a letter")
            }
            Reserved { name } => write!(f, "'{name}' is reserved"),
            NeedsLabel => f.write_str("needs an English or Chinese label"),
            NeedsOptions => f.write_str("a select field needs at least one option"),
            BadOptionValue => f.write_str("option values must be 1-64 characters"),
            BadColor => f.write_str("a colour must be written #rgb or #rrggbb, such as #2e7d32"),
            DuplicateOption { value } => write!(f, "option '{value}' appears twice"),
            OptionsNotAllowed => f.write_str("only select fields take options"),
            NeedsTarget => f.write_str("a reference needs a target entity"),
            UnknownEntity { name } => write!(f, "unknown entity type '{name}'"),
            TargetNotAllowed => f.write_str("only reference fields take a target"),
            ScaleTooLarge { max } => write!(f, "at most {max}"),
            ScaleNotAllowed => f.write_str("only decimal fields take a scale"),
            BoundsNotAllowed { kind } => write!(f, "a {} field takes no min/max", kind.as_str()),
            NotFiniteBound => f.write_str("must be a finite number (a length for text)"),
            MaxBelowMin => f.write_str("must not be less than min"),
            CannotBeUnique { kind } => write!(f, "a {} field cannot be unique", kind.as_str()),
            Duplicate { name } => write!(f, "'{name}' appears twice"),
            NotTextField { name } => write!(f, "'{name}' is not a text field of this entity"),
            NotSelectField { name } => {
                write!(f, "'{name}' is not a select field of this entity")
            }
            IndexSize => f.write_str("an index has 2 to 6 fields"),
            NotIndexable { name } => {
                write!(f, "'{name}' is not an indexable field of this entity")
            }
            NeedsTitle => f.write_str("needs a title"),
            UnknownField { name } => write!(f, "unknown field '{name}'"),
            PlacedTwice { name } => write!(f, "'{name}' is placed twice"),
            EntityDefinedBy { name, origin } => {
                write!(f, "entity type '{name}' is already defined by {origin}")
            }
            FieldDefinedBy { origin } => write!(f, "field is already defined by {origin}"),
            OptionInUse { value } => {
                write!(
                    f,
                    "option '{value}' is still used by records; keep it or change them first"
                )
            }
            NotCustomField => write!(
                f,
                "only custom fields can be retired; hide this one instead"
            ),
            IncompatibleChange {
                entity,
                field,
                from,
                to,
            } => write!(
                f,
                "'{entity}.{field}' would change from {from} to {to}; refusing, stored values \
                 would be lost"
            ),
            EntityExists { name } => write!(f, "entity type '{name}' already exists"),
            FieldExists { entity, field } => write!(f, "'{entity}' already has a field '{field}'"),
            SharedValues { entity, field } => {
                write!(f, "existing '{entity}' records share values of '{field}'")
            }
            AdminRoleStaysAdmin => f.write_str("the admin role must stay an administrator role"),
            ReadOnlyForRole => f.write_str("is read-only for your role"),
            BadNumberFormat { example } => write!(
                f,
                "must be text with date parts {} and one {{seq}} or {{seq:4}} (padded to 4 digits; at most 10), at most 40 characters, such as {example}",
                crate::schema::NumberFormat::DATE_PARTS
            ),
            FormatNotAllowed => f.write_str("only an auto-number field has a format"),
            UnknownCurrency { code } => write!(
                f,
                "'{code}' is not a currency code Qingguan knows (CNY, USD, EUR, HKD, JPY, GBP …)"
            ),
            CurrencyNotAllowed => f.write_str("only a currency amount field has a currency"),
            NotCurrencyCodeField { name } => write!(
                f,
                "'{name}' is not a select field of this type whose options are currency codes (CNY, USD …)"
            ),
            NoExchangeRate { code } => write!(
                f,
                "there is no exchange rate for {code}: an administrator adds one under Exchange rates"
            ),
            RatesInOldCurrency => f.write_str(
                "the exchange rates are in the present company currency: delete them first, then enter them again in the new one",
            ),
            CurrencyAndCurrencyField => f.write_str(
                "an amount whose currency comes from another field has no currency of its own (a record that leaves that field empty is in the company currency)",
            ),
            IsCompanyCurrency { code } => write!(
                f,
                "{code} is the company currency: its rate is always 1"
            ),
            FileFilledByUpload => f.write_str(
                "a file field is filled by uploading a file to a record: it cannot be required or have a default",
            ),
            NotAttached { id } => write!(
                f,
                "#{id} is not a file attached to this record: upload the file to the record first"
            ),
            BadExpression { near } => write!(
                f,
                "is not a formula near '{near}': use numbers, number fields, + - * / and parentheses, {}",
                crate::schema::Expression::FUNCTIONS
            ),
            ExpressionTooDeep { max } => write!(f, "nests more than {max} levels deep"),
            UnknownFunction { name } => {
                write!(
                    f,
                    "has no function '{name}' (there are {})",
                    crate::schema::Expression::FUNCTIONS
                )
            }
            NotFormulaInput { name } => write!(
                f,
                "reads '{name}', which is not a number, decimal or percent field of this type"
            ),
            ExpressionNotAllowed => f.write_str("only a formula field has an expression"),
            TooMany { max } => write!(f, "you keep the most there may be ({max}): delete one first"),
            TitleStaysVisible { field } => {
                write!(f, "'{field}' names each record and cannot be hidden")
            }
            RequiredStaysWritable { field } => write!(
                f,
                "'{field}' is required and has no default: a role that creates these records must be able to fill it"
            ),
            NoEntity { name } => write!(f, "no entity type '{name}'"),
            BadWorkflow { detail } => write!(f, "not a workflow for this type: {detail}"),
            NoTransition { from, to } => write!(
                f,
                "no transition from '{from}' to '{to}' is open to you (check who may make it and its condition)"
            ),
            NeedsApproval { transition } => write!(
                f,
                "'{transition}' needs approval: ask for it with the transition's button"
            ),
            ApprovalPending => f.write_str("waits for an approval: nothing changes until it is decided"),
            LockedInState { state } => write!(f, "cannot change while the record is '{state}'"),
            NotApprover => f.write_str("you are not an approver of this step"),
            NoApprover { step } => write!(
                f,
                "approval step {step} names nobody who could approve it (the owner has no manager, or nobody has the role)"
            ),
            SelfApproval => f.write_str("you asked for this approval and may not approve it yourself"),
            MergeIntoItself => f.write_str("is the record itself: choose the other record to merge"),
            FilterNeedsValue => f.write_str("needs a value (use [null]=true to find empty ones)"),
            NeedsValue => f.write_str("needs a value"),
            NoContains { kind } => {
                write!(f, "contains does not apply to {} fields", kind.as_str())
            }
            MultiSelectOps => f.write_str("multi-select fields take [contains] or [null]"),
            InListSize { max } => write!(f, "needs 1 to {max} comma-separated values"),
            TooManyFilters { max } => write!(f, "at most {max} filters"),
            TooManyFilterValues { max } => {
                write!(f, "the filters may give at most {max} values together")
            }
            BooleanOps => f.write_str("boolean fields take eq, ne or null"),
            NotSortable => f.write_str("multi-select fields cannot be sorted"),
            BadCursor => f.write_str("is not a cursor from this list; start again without it"),
            CursorSortMismatch => f.write_str("was made for a different sort order"),
            CursorDamaged => f.write_str("is damaged"),
            NumberBetween { min, max } => write!(f, "must be a number from {min} to {max}"),
            NoSortField => f.write_str("names no field"),
            UnknownOperator => write!(f, "unknown operator; use one of {OPERATORS}"),
            BadMetric { metric } => write!(
                f,
                "'{metric}' is not count, sum:field, avg:field, min:field or max:field"
            ),
            MetricCount { max } => write!(f, "needs 1 to {max} metrics"),
            TooManyGroupFields { max } => write!(f, "at most {max} fields"),
            NotGroupable { kind } => write!(
                f,
                "{} fields cannot be grouped or aggregated",
                kind.as_str()
            ),
            NoSum { kind } => write!(f, "sum does not apply to {} fields", kind.as_str()),
            SumTooLarge => f.write_str("the sum is too large"),
            TooManyGroups { max } => write!(f, "more than {max} groups; narrow the filters"),
            PathNotUtf8 => f.write_str("backup path must be valid UTF-8"),
            AdminOnly => f.write_str("only an administrator may set this"),
            ConditionChanged => f.write_str(
                "the record changed since approval was asked and the transition's condition no \
                 longer holds: reject it, and ask again",
            ),
            NoMatch { entity, value } => write!(f, "no {entity} matches '{value}'"),
            Ambiguous {
                entity,
                value,
                count,
            } => write!(
                f,
                "'{value}' matches {count} {entity} records; match on a unique field instead"
            ),
            NotDateIn { format } => write!(f, "is not a date written {format}"),
            UnknownDateFormat { formats } => write!(f, "must be one of {formats}"),
            NoColumn { name } => write!(f, "the file has no column '{name}'"),
            KeyNotUnique { name } => write!(
                f,
                "'{name}' is not a unique field; an update needs a field no two records share"
            ),
            KeyEmpty => f.write_str("the key of an update is empty"),
            MappedTwice { name } => write!(f, "'{name}' is filled from two columns"),
            Text(t) => f.write_str(t),
        }
    }
}
