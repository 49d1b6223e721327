//! Why a field or parameter was refused, as a stable code with parameters, so that the edge can
//! say it in the user's language. `Display` gives the English sentence the API has always sent.

use crate::schema::FieldType;

/// The reason a field (or query parameter) was refused. Every variant has a stable snake_case
/// [`code`](Reason::code) and named [`params`](Reason::params); [`Display`](fmt::Display)
/// renders it in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    // --- Values -------------------------------------------------------------------------
    /// A required field has no value.
    Required,
    /// Not a whole number.
    NotInteger,
    /// Not a decimal number.
    NotDecimal,
    /// More decimal places than the field keeps.
    TooManyDecimals {
        /// Decimal places the field keeps.
        scale: u32,
    },
    /// A decimal too large in magnitude to store.
    TooLarge {
        /// The magnitude the value must stay below.
        limit: i64,
    },
    /// Not `true` or `false`.
    NotBoolean,
    /// Not a date `YYYY-MM-DD`.
    NotDate,
    /// Not a date-time.
    NotDatetime,
    /// Not an e-mail address.
    NotEmail,
    /// Not a phone number.
    NotPhone,
    /// Not an `http://` or `https://` address.
    NotUrl,
    /// Not a path inside the application (`/e/customer/42`).
    NotAppPath,
    /// Not a record id (a positive number).
    NotRecordId,
    /// Not a user id (a positive number).
    NotUserId,
    /// A multi-select value that is not a list of option values.
    NotOptionList,
    /// A value that is not one of the field's options.
    NotOption {
        /// The value given.
        value: String,
        /// The option values allowed.
        options: Vec<String>,
    },
    /// A JSON value of the wrong type for the field.
    WrongType {
        /// The field's type.
        expected: FieldType,
    },
    /// Text containing NUL characters.
    ContainsNul,
    /// Text longer than allowed.
    TooLong {
        /// Most characters allowed.
        max: usize,
    },
    /// Text shorter than allowed.
    TooShort {
        /// Fewest characters allowed (as the field's bound is written).
        min: String,
    },
    /// A number below the field's minimum.
    AtLeast {
        /// The minimum (as the field's bound is written).
        min: String,
    },
    /// A number above the field's maximum.
    AtMost {
        /// The maximum (as the field's bound is written).
        max: String,
    },
    /// Text whose length (in characters) is outside a range.
    LengthBetween {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// A value whose size (in bytes) is outside a range.
    BytesBetween {
        /// Fewest bytes.
        min: usize,
        /// Most bytes.
        max: usize,
    },
    /// A value larger (in bytes) than allowed.
    TooManyBytes {
        /// Most bytes.
        max: usize,
    },
    /// A record has as many attached files as it may keep.
    TooManyAttachments {
        /// Most files per record.
        max: usize,
    },
    /// A saved view's query string is too long.
    QueryTooLong {
        /// Most bytes.
        max: usize,
    },
    /// A name that must not contain spaces does.
    ContainsSpaces,
    /// A password that is not the user's current password.
    WrongPassword,

    // --- Records ------------------------------------------------------------------------
    /// A system column (id, version, timestamps…) was written.
    SystemColumn,
    /// The entity type has no such field.
    NoField {
        /// Entity type.
        entity: String,
        /// The field named.
        field: String,
    },
    /// The field is retired: readable, no longer writable.
    Retired,
    /// No role of that name.
    NoRole {
        /// The role named.
        role: String,
    },
    /// A reference field whose target entity type does not exist.
    NoTargetType {
        /// The target entity type.
        entity: String,
    },
    /// A reference to a record that does not exist.
    NoRecord {
        /// Entity type referenced.
        entity: String,
        /// The id given.
        id: i64,
    },
    /// A unique field's value is already used by another record.
    Unique {
        /// Entity type.
        entity: String,
        /// The record that has the value.
        id: i64,
    },
    /// The caller may not give the record to that owner.
    OwnerOutOfScope,
    /// The caller may not leave the record without an owner: it would leave their scope.
    OwnerRequired,
    /// The record has changed since the caller read it.
    StaleVersion {
        /// The record's current version.
        current: i64,
    },
    /// A record cannot be deleted: records of another type still reference it.
    StillReferenced {
        /// How many records reference it.
        count: i64,
        /// Their entity type.
        entity: String,
        /// Their reference field.
        field: String,
    },

    // --- Definitions (entity types, fields, layouts, roles) -----------------------------
    /// Not a machine name (1–40 characters of `a-z`, `0-9`, `_`, starting with a letter).
    BadName,
    /// A reserved name.
    Reserved {
        /// The name.
        name: String,
    },
    /// Neither an English nor a Chinese label.
    NeedsLabel,
    /// A select field without options.
    NeedsOptions,
    /// An option value that is empty or longer than 64 characters.
    BadOptionValue,
    /// An option colour that is not `#rgb` or `#rrggbb`.
    BadColor,
    /// An option value given twice.
    DuplicateOption {
        /// The option value.
        value: String,
    },
    /// Options on a field that is not a select.
    OptionsNotAllowed,
    /// A reference field without a target entity type.
    NeedsTarget,
    /// An entity type that does not exist (in a definition).
    UnknownEntity {
        /// The entity type named.
        name: String,
    },
    /// A target on a field that is not a reference.
    TargetNotAllowed,
    /// A decimal scale above the maximum.
    ScaleTooLarge {
        /// Largest scale.
        max: u32,
    },
    /// A scale on a field that is not a decimal.
    ScaleNotAllowed,
    /// `min`/`max` on a field type that takes none.
    BoundsNotAllowed {
        /// The field's type.
        kind: FieldType,
    },
    /// A `min`/`max` that is not a finite number (or a negative length).
    NotFiniteBound,
    /// `max` below `min`.
    MaxBelowMin,
    /// `unique` on a field type that cannot be unique.
    CannotBeUnique {
        /// The field's type.
        kind: FieldType,
    },
    /// A name given twice.
    Duplicate {
        /// The name.
        name: String,
    },
    /// A title field that is not a text field of the entity type.
    NotTextField {
        /// The field named.
        name: String,
    },
    /// A kanban field that is not a select field of the entity type.
    NotSelectField {
        /// The field named.
        name: String,
    },
    /// A composite index without 2 to 6 fields.
    IndexSize,
    /// A field that cannot be part of a composite index.
    NotIndexable {
        /// The field named.
        name: String,
    },
    /// A layout section without a title.
    NeedsTitle,
    /// A layout names a field the entity type does not have.
    UnknownField {
        /// The field named.
        name: String,
    },
    /// A layout places a field twice.
    PlacedTwice {
        /// The field named.
        name: String,
    },
    /// An entity type already defined by another origin.
    EntityDefinedBy {
        /// The entity type.
        name: String,
        /// Who defines it (`core`, `plugin:…`, `custom`).
        origin: String,
    },
    /// A field already defined by another origin.
    FieldDefinedBy {
        /// Who defines it (`core`, `plugin:…`, `custom`).
        origin: String,
    },
    /// A select option removed while records still hold it.
    OptionInUse {
        /// The option's stored value.
        value: String,
    },
    /// Only custom fields can be retired (others are hidden instead).
    NotCustomField,
    /// A field's type change that would lose stored values.
    IncompatibleChange {
        /// Entity type.
        entity: String,
        /// Field.
        field: String,
        /// The stored type.
        from: String,
        /// The new type.
        to: String,
    },
    /// An entity type of that name already exists.
    EntityExists {
        /// The entity type.
        name: String,
    },
    /// The entity type already has a field of that name.
    FieldExists {
        /// Entity type.
        entity: String,
        /// Field.
        field: String,
    },
    /// A field cannot become unique: existing records share values.
    SharedValues {
        /// Entity type.
        entity: String,
        /// Field.
        field: String,
    },
    /// The built-in `admin` role must keep its administrator flag.
    AdminRoleStaysAdmin,
    /// The writer's role may read the field but not change it.
    ReadOnlyForRole,
    /// An auto-number pattern that is not one.
    BadNumberFormat {
        /// A pattern that is.
        example: String,
    },
    /// A `format` on a field that is not an auto-number.
    FormatNotAllowed,
    /// A currency code Qingguan does not know.
    UnknownCurrency {
        /// The code given.
        code: String,
    },
    /// A currency given to a field that is not a currency amount.
    CurrencyNotAllowed,
    /// A currency amount's `currency_field` that is not a select field of its type whose
    /// options are all currency codes.
    NotCurrencyCodeField {
        /// The field named.
        name: String,
    },
    /// An amount in a currency with no exchange rate to the company currency.
    NoExchangeRate {
        /// The currency.
        code: String,
    },
    /// A currency amount given both a currency of its own and a field naming each record's.
    CurrencyAndCurrencyField,
    /// The company currency changed while exchange rates to the old one exist.
    RatesInOldCurrency,
    /// An exchange rate for the company currency itself (always 1).
    IsCompanyCurrency {
        /// The currency.
        code: String,
    },
    /// A file field is filled by uploading to a record: it is neither required nor given a
    /// default.
    FileFilledByUpload,
    /// A file field's value that is not a file attached to the record.
    NotAttached {
        /// The attachment id given.
        id: i64,
    },
    /// A formula that does not read as one, near this text.
    BadExpression {
        /// The text where reading stopped.
        near: String,
    },
    /// A formula nested deeper than the limit.
    ExpressionTooDeep {
        /// Deepest nesting.
        max: usize,
    },
    /// A formula calls a function there is none of.
    UnknownFunction {
        /// The name called.
        name: String,
    },
    /// A formula reads a field that is not a number field of its type (or is a formula).
    NotFormulaInput {
        /// The field named.
        name: String,
    },
    /// An `expression` on a field that is not a formula.
    ExpressionNotAllowed,
    /// One more would pass the most one may keep.
    TooMany {
        /// The most.
        max: usize,
    },
    /// A role's rule would hide the field that names a record.
    TitleStaysVisible {
        /// The title field.
        field: String,
    },
    /// A role's rule would keep a role that creates records from a required field without a
    /// default (every create would be refused).
    RequiredStaysWritable {
        /// The field.
        field: String,
    },
    /// No entity type of that name (in a role's permissions).
    NoEntity {
        /// The entity type named.
        name: String,
    },

    // --- Workflows ----------------------------------------------------------------------
    /// A workflow definition that does not fit its entity type.
    BadWorkflow {
        /// What is wrong, in the definition's terms.
        detail: String,
    },
    /// A change of state no transition open to the writer allows.
    NoTransition {
        /// The state the record is in (empty: none).
        from: String,
        /// The state asked for.
        to: String,
    },
    /// The transition needs approval: it is asked for, not written.
    NeedsApproval {
        /// The transition's label.
        transition: String,
    },
    /// The record waits for an approval: its state cannot change meanwhile.
    ApprovalPending,
    /// The field cannot change while the record is in this state.
    LockedInState {
        /// The state.
        state: String,
    },
    /// The person is not an approver of the approval's current step.
    NotApprover,
    /// An approval step names nobody who could approve it (an owner without a manager, a role
    /// nobody has).
    NoApprover {
        /// The step, from 1.
        step: i64,
    },
    /// The person asked for this approval and the step does not let them approve it.
    SelfApproval,
    /// A merge named the same record twice.
    MergeIntoItself,

    // --- Queries ------------------------------------------------------------------------
    /// A filter without a value.
    FilterNeedsValue,
    /// A `contains` filter without a value.
    NeedsValue,
    /// `contains` on a field type it does not apply to.
    NoContains {
        /// The field's type.
        kind: FieldType,
    },
    /// A multi-select filter with an operator other than `contains` or `null`.
    MultiSelectOps,
    /// An `in` filter with too few or too many values.
    InListSize {
        /// Most values.
        max: usize,
    },
    /// More filters than one query may have.
    TooManyFilters {
        /// Most filters.
        max: usize,
    },
    /// Filters giving more values together (`in` lists included) than one query may bind.
    TooManyFilterValues {
        /// Most values.
        max: usize,
    },
    /// A boolean filter with an ordering operator.
    BooleanOps,
    /// A sort on a multi-select field.
    NotSortable,
    /// A cursor that did not come from this list.
    BadCursor,
    /// A cursor made for another sort order.
    CursorSortMismatch,
    /// A cursor whose position cannot be read.
    CursorDamaged,
    /// A number outside a range (the page size).
    NumberBetween {
        /// Smallest.
        min: usize,
        /// Largest.
        max: usize,
    },
    /// A sort parameter without a field.
    NoSortField,
    /// An unknown filter operator.
    UnknownOperator,
    /// An aggregate metric that cannot be parsed.
    BadMetric {
        /// The metric given.
        metric: String,
    },
    /// Too few or too many metrics.
    MetricCount {
        /// Most metrics.
        max: usize,
    },
    /// Too many group-by fields.
    TooManyGroupFields {
        /// Most fields.
        max: usize,
    },
    /// A field type that cannot be grouped or aggregated.
    NotGroupable {
        /// The field's type.
        kind: FieldType,
    },
    /// `sum` on a field type it does not apply to.
    NoSum {
        /// The field's type.
        kind: FieldType,
    },
    /// A sum that overflows.
    SumTooLarge,
    /// An aggregate with too many groups.
    TooManyGroups {
        /// Most groups.
        max: usize,
    },

    /// An approval whose transition's condition no longer holds on the record.
    ConditionChanged,

    // --- Imports ------------------------------------------------------------------------
    /// Something only an administrator may set (an imported record's creation time).
    AdminOnly,
    /// A reference written as text that names no record the importer may read.
    NoMatch {
        /// The entity type looked in.
        entity: String,
        /// The text looked for.
        value: String,
    },
    /// A reference written as text that names several records.
    Ambiguous {
        /// The entity type looked in.
        entity: String,
        /// The text looked for.
        value: String,
        /// How many records it names.
        count: usize,
    },
    /// A cell that is not a date written in the import's declared date format.
    NotDateIn {
        /// The declared format, as the user chose it (`DD-MM-YY`).
        format: String,
    },
    /// A date format the import does not know.
    UnknownDateFormat {
        /// The formats it knows.
        formats: String,
    },
    /// A mapping naming a column the file does not have.
    NoColumn {
        /// The column named.
        name: String,
    },
    /// An upsert key that is not a unique field of the type.
    KeyNotUnique {
        /// The field named.
        name: String,
    },
    /// A row whose upsert key is empty.
    KeyEmpty,
    /// A field mapped from two columns.
    MappedTwice {
        /// The field.
        name: String,
    },

    // --- Other --------------------------------------------------------------------------
    /// A backup path that is not valid UTF-8.
    PathNotUtf8,
    /// Free text, already in the user's language (a plugin hook's reason) or not classified.
    /// The core itself does not use it.
    Text(String),
}

/// The operators of a filter, as [`Reason::UnknownOperator`] lists them.
const OPERATORS: &str = "eq, ne, lt, lte, gt, gte, in, contains, null";
/// The forms of an aggregate metric, as [`Reason::BadMetric`] lists them.
const METRIC_FORMS: &str = "count, sum:field, avg:field, min:field, max:field";
/// The example [`Reason::NotDatetime`] gives.
const DATETIME_EXAMPLE: &str = "2026-01-31T09:30:00Z";

mod code;
mod en;
mod render;
#[cfg(test)]
mod tests;
mod zh;

pub use render::render_fields;
