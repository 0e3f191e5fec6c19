-- Scripted answers: the same script sent with other names is joined to the oldest variant of
-- its wording by one comparison, found through this index, instead of by searching the bands
-- (domain/src/scripts.rs, `group`).
CREATE INDEX script_variants_by_wording ON script_variants(wording, id);
