-- The masks analysts see (access.mask_id_number / access.mask_phone, migration 0011): an ID
-- number keeps only its division (6 characters), a mobile its network prefix and last four,
-- anything else is hidden entirely, null stays null. Returns the cases that mask otherwise.
{{ config(tags=['access']) }}

with cases (function_name, value, expected) as (
    values
        ('mask_id_number', '450102199003071238', '450102************'),
        ('mask_id_number', '45010219900307123X', '450102************'),
        ('mask_id_number', '450102900307123', '450102*********'),
        ('mask_id_number', '4501021990', '**********'),
        ('mask_id_number', '', ''),
        ('mask_id_number', null, null),
        ('mask_phone', '13907712345', '139****2345'),
        ('mask_phone', '2345678', '*******'),
        ('mask_phone', '139077123456', '************'),
        ('mask_phone', null, null)
)

select function_name, value, expected, masked
from (
    select
        *,
        case function_name
            when 'mask_id_number' then access.mask_id_number(value)
            else access.mask_phone(value)
        end as masked
    from cases
) as checked
where masked is distinct from expected
