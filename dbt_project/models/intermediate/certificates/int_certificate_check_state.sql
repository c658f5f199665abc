-- The inputs of every matched certificate's structured check, as a fingerprint
-- (macros/certificate_batch.sql): the next build re-checks the certificates whose inputs
-- changed. Built after the checks, so a build that fails before leaves the previous state
-- and the next build re-checks the same certificates again.
{{ config(indexes=[{'columns': ['record_key']}]) }}
-- depends_on: {{ ref('int_certificate_checks') }}
{{ certificate_check_inputs() }}
