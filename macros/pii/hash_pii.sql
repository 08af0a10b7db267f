{#- Keyed hash of a PII value (DESIGN §9): sha256 of salt || normalized value, hex.
    The salt comes from CLV_PII_SALT; without it only the dev and ci targets may run,
    on a salt that is public and so protects nothing. -#}
{% macro hash_pii(column) -%}
    case
        when {{ column }} is null then null
        else {{ sha256_hex(pii_salted(column)) }}
    end
{%- endmacro %}

{% macro pii_salt() -%}
    {%- set salt = env_var('CLV_PII_SALT', '') -%}
    {%- if salt == '' -%}
        {%- if target.name in ['prod'] and execute -%}
            {{ exceptions.raise_compiler_error("CLV_PII_SALT must be set for target " ~ target.name ~ ": PII would be hashed with the public dev salt") }}
        {%- endif -%}
        {%- set salt = 'clv-dev-salt-not-secret' -%}
    {%- endif -%}
    {{ return(salt) }}
{%- endmacro %}

{% macro pii_salted(column) -%}
    '{{ pii_salt() | replace("'", "''") }}' || lower(trim({{ column }}))
{%- endmacro %}
