-- Whether a device has events waiting for a gap to fill is asked on every
-- sync batch; without this index the question scanned every event the
-- device ever sent (and its command text), so a batch grew slower the
-- longer a device had been syncing. Partial: only waiting events are in it.
CREATE INDEX device_events_pending ON device_events(device_id, seq)
    WHERE state = '{"state":"pending"}';
