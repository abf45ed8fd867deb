import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.ts';
import { mappingJsonSchema, parseMappingSpec, parseMappingYaml } from '../../../lambdas/core/mapping/spec.ts';
import { MAPPING_SCHEMA_PATH, renderMappingSchema } from '../../../lambdas/core/mapping/write-schema.ts';

const GOOD = `version: 1
source: pbn
options: { defaultCountry: US, dateOrder: MDY }
entities:
  patients:
    files: [patients.csv]
    target: person
    idColumn: PatientID
    fields:
      name: { from: [FirstName, LastName], transform: fullName, required: true }
      emails: { from: Email, transform: email }
      address: { from: { street1: Address1, city: City }, transform: address }
      insuranceCarrier:
        from: InsCarrier
        transform: select
        valueMap: { "Delta Dental": DELTA_DENTAL }
        unmapped: default
        default: OTHER
        custom: { type: SELECT, label: Insurance carrier }
    relations:
      company: { entity: practices, from: PracticeID, joinColumn: companyId }
  practices:
    files: [practices.csv]
    target: company
    idColumn: ID
`;

function errorOf(text: string): string {
  try {
    parseMappingYaml(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('parseMappingYaml', () => {
  it('fills defaults when a valid spec omits them', () => {
    const spec = parseMappingYaml(GOOD);
    expect(spec.options.currency).toBe('USD');
    expect(spec.options.dateOrder).toBe('MDY');
    expect(spec.entities.patients?.fields.emails?.required).toBe(false);
    expect(spec.entities.patients?.relations.company?.onMissing).toBe('reject');
    expect(spec.entities.practices?.fields).toEqual({});
    expect(spec.customObjects).toEqual([]);
  });

  it('names the path and "required" when a field has no from', () => {
    expect(errorOf(GOOD.replace('{ from: Email, transform: email }', '{ transform: email }'))).toBe(
      'mapping.yaml: entities.patients.fields.emails.from: required',
    );
  });

  it('lists the allowed transforms when the transform is unknown', () => {
    expect(errorOf(GOOD.replace('transform: email', 'transform: e-mail'))).toMatch(
      /^mapping\.yaml: entities\.patients\.fields\.emails\.transform: must be one of "text"/,
    );
  });

  it('rejects an option value that is not a GraphQL enum name', () => {
    expect(errorOf(GOOD.replace('DELTA_DENTAL', 'DELTA-DENTAL'))).toContain(
      'entities.patients.fields.insuranceCarrier.valueMap.Delta Dental: must be a GraphQL enum name',
    );
  });

  it('rejects a relation to an entity the mapping does not define', () => {
    expect(errorOf(GOOD.replace('entity: practices', 'entity: clinics'))).toBe(
      'mapping.yaml: entities.patients.relations.company.entity: must name an entity of this mapping',
    );
  });

  it('refuses a custom field label longer than Twenty takes (63 characters), naming the key', () => {
    const spec = {
      version: 1,
      source: 'generic',
      entities: {
        patients: {
          files: ['p.csv'],
          target: 'person',
          idColumn: 'id',
          fields: { note: { from: 'n', custom: { type: 'TEXT', label: 'L'.repeat(64) } } },
        },
      },
    };
    expect(() => parseMappingSpec(spec, 'm.yaml')).toThrow(
      /entities\.patients\.fields\.note\.custom\.label: must be at most 63 characters/,
    );
  });

  it('rejects unknown keys and non-camelCase field names', () => {
    expect(errorOf(GOOD.replace('    target: company', '    target: company\n    colour: red'))).toContain(
      'entities.practices: unknown key colour',
    );
    expect(errorOf(GOOD.replace('      emails:', '      Emails:'))).toContain(
      'entities.patients.fields.Emails',
    );
  });

  it('requires a default when unmapped values fall back to it', () => {
    expect(errorOf(GOOD.replace('        default: OTHER\n', ''))).toBe(
      'mapping.yaml: entities.patients.fields.insuranceCarrier.default: required when unmapped is default',
    );
  });

  it('reports the line of a YAML syntax error', () => {
    expect(errorOf('version: 1\nentities: [\n')).toMatch(/^mapping\.yaml: line \d+: YAML syntax/);
  });

  it('uses the caller-supplied source name in messages', () => {
    expect(() => parseMappingSpec({ version: 2 }, 'profiles/pbn')).toThrow(/^profiles\/pbn: version: /);
  });
});

describe('mappingJsonSchema', () => {
  it('describes the entity fields for editor completion', () => {
    const schema = mappingJsonSchema() as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['version', 'source', 'entities', 'customObjects']),
    );
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'source', 'entities']));
  });

  it('matches the committed mapping.schema.json (run write-schema.ts when it fails)', () => {
    expect(JSON.parse(readFileSync(MAPPING_SCHEMA_PATH, 'utf8'))).toEqual(JSON.parse(renderMappingSchema()));
  });
});
