import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOfType, synthFerry, testTasks } from './support.ts';

/**
 * The security configuration as sweeps over every resource of the synthesized stack (the deployed
 * registry with every grant path switched on), so a resource added later is checked without anyone
 * remembering to: customer-managed KMS wherever the service offers it, TLS-only bucket and topic
 * policies, no wildcard IAM action on a data resource, and the Twenty API key only in Secrets
 * Manager. cdk-nag's packs run in nag.test.ts; these assertions do not depend on its rule set.
 */

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = {
  Effect: string;
  Action?: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The logical id a `{Ref}` / `{Fn::GetAtt}` points at, if that is all the value is. */
function referencedId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const node = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (typeof node.Ref === 'string') return node.Ref;
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

/** Every IAM statement of the template: policies, inline role policies and resource policies. */
function allStatements(template: Template): { owner: string; statement: Statement }[] {
  const out: { owner: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, Resource>)) {
    const documents: unknown[] = [];
    if (resource.Type === 'AWS::IAM::Policy') documents.push(resource.Properties?.PolicyDocument);
    if (resource.Type === 'AWS::IAM::Role')
      for (const policy of asArray(
        resource.Properties?.Policies as { PolicyDocument: unknown }[] | undefined,
      ))
        documents.push(policy.PolicyDocument);
    for (const document of documents)
      for (const statement of asArray((document as { Statement?: Statement[] } | undefined)?.Statement))
        out.push({ owner: id, statement });
  }
  return out;
}

describe('FerryStack security configuration', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resourcesOfType(template, type));
  const customerKeys = () => new Set(ofType('AWS::KMS::Key').map(([id]) => id));

  beforeAll(() => {
    template = synthFerry({ tasks: testTasks }).template;
    resources = template.toJSON().Resources as Record<string, Resource>;
  });

  describe('KMS at rest', () => {
    it('rotates every customer-managed key', () => {
      expect(customerKeys().size).toBeGreaterThan(0);
      for (const [id, key] of ofType('AWS::KMS::Key'))
        expect(key.Properties?.EnableKeyRotation, id).toBe(true);
    });

    it('encrypts every data bucket with a customer-managed key; the access-log bucket with S3 keys, as server access logging requires', () => {
      const logTargets = new Set(
        ofType('AWS::S3::Bucket')
          .map(([, b]) =>
            referencedId(
              (b.Properties?.LoggingConfiguration as { DestinationBucketName?: unknown })
                ?.DestinationBucketName,
            ),
          )
          .filter((id): id is string => id !== undefined),
      );
      expect(logTargets.size).toBe(1);
      for (const [id, bucket] of ofType('AWS::S3::Bucket')) {
        const rules = (
          bucket.Properties?.BucketEncryption as {
            ServerSideEncryptionConfiguration?: {
              ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: unknown };
            }[];
          }
        )?.ServerSideEncryptionConfiguration;
        const byDefault = rules?.[0]?.ServerSideEncryptionByDefault;
        if (logTargets.has(id)) {
          expect(byDefault?.SSEAlgorithm, id).toBe('AES256');
          continue;
        }
        expect(byDefault?.SSEAlgorithm, id).toBe('aws:kms');
        expect(customerKeys().has(referencedId(byDefault?.KMSMasterKeyID) ?? ''), id).toBe(true);
      }
    });

    it('encrypts every table, secret, topic, queue and log group with a customer-managed key', () => {
      const keyOf: Record<string, (p: Record<string, unknown>) => unknown> = {
        'AWS::DynamoDB::Table': (p) => (p.SSESpecification as { KMSMasterKeyId?: unknown })?.KMSMasterKeyId,
        'AWS::SecretsManager::Secret': (p) => p.KmsKeyId,
        'AWS::SNS::Topic': (p) => p.KmsMasterKeyId,
        'AWS::SQS::Queue': (p) => p.KmsMasterKeyId,
        'AWS::Logs::LogGroup': (p) => p.KmsKeyId,
      };
      let checked = 0;
      for (const [id, resource] of Object.entries(resources)) {
        const read = keyOf[resource.Type];
        if (read === undefined) continue;
        checked += 1;
        expect(
          customerKeys().has(referencedId(read(resource.Properties ?? {})) ?? ''),
          `${resource.Type} ${id}`,
        ).toBe(true);
      }
      expect(checked).toBeGreaterThan(15);
      for (const [id, table] of ofType('AWS::DynamoDB::Table'))
        expect(table.Properties?.SSESpecification, id).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    });

    it('encrypts every state machine definition and execution history with a customer-managed key', () => {
      const machines = ofType('AWS::StepFunctions::StateMachine');
      expect(machines).toHaveLength(3);
      for (const [id, machine] of machines) {
        const encryption = machine.Properties?.EncryptionConfiguration as {
          Type?: string;
          KmsKeyId?: unknown;
        };
        expect(encryption?.Type, id).toBe('CUSTOMER_MANAGED_KMS_KEY');
        expect(customerKeys().has(referencedId(encryption?.KmsKeyId) ?? ''), id).toBe(true);
      }
    });
  });

  describe('TLS only', () => {
    it('denies plain-HTTP requests on every bucket and topic, by a policy attached to each', () => {
      const denied = (statements: Statement[]) =>
        statements.some(
          (s) =>
            s.Effect === 'Deny' &&
            JSON.stringify(s.Principal).includes('*') &&
            s.Condition?.Bool?.['aws:SecureTransport'] === 'false',
        );
      const bucketPolicies = ofType('AWS::S3::BucketPolicy').map(([, p]) => p.Properties ?? {});
      for (const [id] of ofType('AWS::S3::Bucket')) {
        const policy = bucketPolicies.find((p) => referencedId(p.Bucket) === id);
        expect(policy, id).toBeDefined();
        expect(
          denied((policy?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? []),
          id,
        ).toBe(true);
      }
      const topicPolicies = ofType('AWS::SNS::TopicPolicy').map(([, p]) => p.Properties ?? {});
      for (const [id] of ofType('AWS::SNS::Topic')) {
        const policy = topicPolicies.find((p) =>
          asArray(p.Topics as unknown[]).some((t) => referencedId(t) === id),
        );
        expect(policy, id).toBeDefined();
        expect(
          denied((policy?.PolicyDocument as { Statement?: Statement[] } | undefined)?.Statement ?? []),
          id,
        ).toBe(true);
      }
    });
  });

  describe('IAM', () => {
    /** Logical ids of the resources holding data: buckets, tables, the secret, the keys, the topic. */
    const dataResourceIds = () =>
      new Set(
        Object.entries(resources)
          .filter(([, r]) =>
            [
              'AWS::S3::Bucket',
              'AWS::DynamoDB::Table',
              'AWS::SecretsManager::Secret',
              'AWS::KMS::Key',
              'AWS::SNS::Topic',
              'AWS::SQS::Queue',
            ].includes(r.Type),
          )
          .map(([id]) => id),
      );

    it('grants no service-wide or global wildcard action anywhere', () => {
      const wide = allStatements(template).flatMap(({ owner, statement }) =>
        statement.Effect === 'Allow'
          ? asArray(statement.Action)
              .filter((action) => action === '*' || /^[a-z0-9-]+:\*$/.test(action))
              .map((action) => `${owner}: ${action}`)
          : [],
      );
      expect(wide).toEqual([]);
    });

    it('grants on data resources only named actions — no wildcard, not even a prefix group like s3:GetObject*', () => {
      const ids = dataResourceIds();
      const problems: string[] = [];
      let onData = 0;
      for (const { owner, statement } of allStatements(template)) {
        if (statement.Effect !== 'Allow') continue;
        const targets = asArray(statement.Resource);
        const onDataResource = targets.some((target) =>
          [...ids].some((id) => JSON.stringify(target).includes(`"${id}"`)),
        );
        if (!onDataResource) continue;
        onData += 1;
        if (targets.includes('*')) problems.push(`${owner}: Resource * beside a data resource`);
        for (const action of asArray(statement.Action))
          if (action.includes('*')) problems.push(`${owner}: ${action}`);
      }
      expect(onData).toBeGreaterThan(20);
      expect(problems).toEqual([]);
    });

    it('never grants a data action with Resource "*"', () => {
      const dataServices = /^(s3|dynamodb|secretsmanager|kms|sns|sqs):/;
      const open = allStatements(template).flatMap(({ owner, statement }) =>
        statement.Effect === 'Allow' && asArray(statement.Resource).includes('*')
          ? asArray(statement.Action)
              .filter((action) => dataServices.test(action))
              .map((action) => `${owner}: ${action}`)
          : [],
      );
      expect(open).toEqual([]);
    });
  });

  describe('the Twenty API key', () => {
    it('reaches functions only as the secret ARN, read at run time with GetSecretValue on that secret', () => {
      const [[secretId] = []] = ofType('AWS::SecretsManager::Secret');
      expect(secretId).toBeDefined();
      for (const [id, fn] of ofType('AWS::Lambda::Function')) {
        const variables = ((fn.Properties?.Environment as { Variables?: Record<string, unknown> })
          ?.Variables ?? {}) as Record<string, unknown>;
        for (const [name, value] of Object.entries(variables)) {
          expect(`${id} ${name}`).not.toMatch(/API_?KEY|TOKEN|PASSWORD/i);
          if (/SECRET/.test(name)) expect(referencedId(value), `${id} ${name}`).toBe(secretId);
        }
      }
      const readers = allStatements(template).filter(({ statement }) =>
        asArray(statement.Action).includes('secretsmanager:GetSecretValue'),
      );
      expect(readers.length).toBeGreaterThan(0);
      for (const { owner, statement } of readers)
        expect(asArray(statement.Resource).map(referencedId), owner).toEqual([secretId]);
    });

    it('is no literal anywhere in the template: generated by Secrets Manager at deploy time', () => {
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toMatch(/"SecretString"/);
      expect(text).not.toMatch(/"apiKey"\s*:\s*"/);
      expect(text).not.toMatch(/Bearer /);
      const [[, secret] = []] = ofType('AWS::SecretsManager::Secret');
      expect(secret?.Properties?.GenerateSecretString).toMatchObject({ GenerateStringKey: 'apiKey' });
    });
  });
});
