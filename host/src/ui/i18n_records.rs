//! The words of record pages' merging and file fields, in English and Simplified Chinese (see
//! [`super::i18n`]).

/// `(key, en, zh-CN)`.
pub const RECORDS: &[(&str, &str, &str)] = &[
    ("merge", "Merge duplicates", "合并重复记录"),
    ("merge_help", "The other record is merged into this one: everything that refers to it, the activities about it and its attachments move here, its history becomes part of this record's, and it is deleted. Tick the values to take from it.", "另一条记录将合并到当前记录：所有引用它的记录、与它相关的活动和附件都会转到这里，它的历史并入本记录的历史，然后它被删除。请勾选要从它那里取用的值。"),
    ("merge_candidates", "Likely duplicates of this record", "可能与本记录重复的记录"),
    ("merge_none", "No likely duplicates found. You can still name the other record by its number.", "没有发现可能重复的记录。仍可按编号指定另一条记录。"),
    ("merge_compare", "Compare and merge", "比较并合并"),
    ("merge_other_id", "Number of the other record", "另一条记录的编号"),
    ("merge_field", "Field", "字段"),
    ("merge_this", "This record (stays)", "当前记录（保留）"),
    ("merge_other", "The other record (merged away)", "另一条记录（将被合并）"),
    ("merge_take", "Take", "取用"),
    ("merge_refers", "Records referring to it", "引用它的记录"),
    ("merge_confirm", "Merge the other record into this one? It is deleted; this cannot be undone.", "确定把另一条记录合并到当前记录？合并后它将被删除，且无法撤销。"),
    ("merge_submit", "Merge into this record", "合并到当前记录"),
    ("merge_done", "Merged: {refs} references, {activities} activities and {attachments} attachments moved here.", "已合并：{refs} 条引用、{activities} 条活动和 {attachments} 个附件已转到本记录。"),
    ("merged_from", "merged record", "合并的记录"),
    ("merged_action", "merged", "合并"),
    ("file_upload", "Upload", "上传"),
    ("timeline_older", "Older entries", "更早的记录"),
    ("file_replace", "Replace", "更换"),
];
