-- Survivorship: per person and attribute, the winning value and the dataset it came from.
-- Rules are data (seeds/survivorship_rules.csv): source priority, then validity, then recency.
{{ survivorship(ref('int_person_attribute_candidates'), 'person_id', 'person') }}
