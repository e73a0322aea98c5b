-- One graduate's unmasked personal data, within the acting user's scope (pipelines/privacy.py
-- records the reveal in the same transaction).
select student_id, name, id_number, phone
from scoped_graduates
where student_id = $student_id
