{#- Keyed hash of a PII value (DESIGN §9): sha256 of salt || normalized value, hex.
    The salt comes from CLV_PII_SALT through private.pii_key; without it only the dev and ci
    targets may run, on a salt that is public and so protects nothing. -#}
{% macro hash_pii(column) -%}
    case
        when {{ column }} is null then null
        else {{ sha256_hex(pii_salted(column)) }}
    end
{%- endmacro %}

{#- The salt is read from a one-row table at run time (clv_jobs/pii.py writes it), never
    written into SQL: compiled code, view definitions, the manifest and the logs hold no key. -#}
{% macro pii_salted(column) -%}
    (select pii_key.salt from private.pii_key as pii_key) || lower(trim({{ column }}))
{%- endmacro %}
