{#- An administrative decision number (处罚决定书文号): issuer code, year, number, as GB/T 9704
    writes a document number: year in 〔〕 (()[]【】〖〗 are read), no 第, no leading zeros,
    no spaces, 号 added when missing. -#}
select case when m is not null then m[1] || '〔' || m[2] || '〕' || m[3] || '号' end
from (select regexp_match(
    translate({{ function('compact') }}(value), '()[]【】〖〗', '〔〕〔〕〔〕〔〕'),
    '^([^〔〕]*[一-龥][^〔〕]*)〔((?:19|20)[0-9]{2})〕第?0*([1-9][0-9]*)号?$'
) as m) as parsed
