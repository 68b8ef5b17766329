-- An incident's retest round carries the incident's area, so the people
-- responsible for that area can read it and its marks: a round without
-- areas lies in no one's scope, and the scope check fails closed.
INSERT INTO round_areas (round_id, area_id)
SELECT retest_round, area_id FROM incidents WHERE retest_round IS NOT NULL
ON CONFLICT DO NOTHING;
