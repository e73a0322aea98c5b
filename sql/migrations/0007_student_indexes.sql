-- Indexes on 学号 (and on the revision a review or proof belongs to), so that a write touching a
-- few graduates reads only their history: the stage refresh after a decision, a submission or a
-- confirmation costs the same on 5 thousand or 12 million graduates (pipelines/store.py
-- refresh_stages_of). DuckDB uses them for the `among_students` filter of the stage views.
create index if not exists destinations_student on destinations (student_id);
create index if not exists registrations_student on registrations (student_id);
create index if not exists reviews_registration on reviews (registration_id);
create index if not exists hukou_registrations_student on hukou_registrations (student_id);
create index if not exists confirmations_student on confirmations (student_id);
create index if not exists verification_reports_student on verification_reports (student_id);
create index if not exists registration_proofs_registration on registration_proofs (registration_id);
