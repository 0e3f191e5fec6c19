-- The covariance of a fit's log-parameters (JSON array, row-major), from which readings take
-- their intervals. NULL for fits stored before it was kept: their readings have no interval.
ALTER TABLE fits ADD COLUMN covariance TEXT;
