-- Finding whether someone was already told of something (an overdue follow-up) by its kind and
-- link, without reading every notification.
CREATE INDEX notifications_kind_link ON notifications (kind, link);
