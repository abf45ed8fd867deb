import { Validations } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface TwentySecretProps {
  /** Use an existing secret (JSON `{"url","apiKey"}`) instead of creating one. */
  readonly existingSecretArn?: string;
  /** Key for the secret the stack creates. */
  readonly key: IKey;
}

/** A Secrets Manager ARN ends with `-` and six random characters only when it is complete. */
const COMPLETE_SECRET_ARN = /:secret:.+-[A-Za-z0-9]{6}$/;

/**
 * Where the Twenty API key lives. Stage functions get only the secret's ARN and read permission,
 * and read the value at run time, so the key is never in a template, an environment variable or a
 * state payload. The created secret holds a generated placeholder the operator overwrites with
 * `{"url": "https://…", "apiKey": "…"}` after deploying.
 */
export class TwentySecret extends Construct {
  public readonly secret: ISecret;

  constructor(scope: Construct, id: string, props: TwentySecretProps) {
    super(scope, id);
    const existing = props.existingSecretArn;
    if (existing !== undefined) {
      this.secret = COMPLETE_SECRET_ARN.test(existing)
        ? Secret.fromSecretCompleteArn(this, 'Imported', existing)
        : Secret.fromSecretPartialArn(this, 'Imported', existing);
      return;
    }
    const created = new Secret(this, 'Secret', {
      description:
        'Ferry: Twenty API access as JSON {"url","apiKey"}; replace the generated placeholder after deploy',
      encryptionKey: props.key,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ url: 'https://twenty.invalid' }),
        generateStringKey: 'apiKey',
        excludePunctuation: true,
        passwordLength: 48,
      },
    });
    const reason =
      'A Twenty API key is issued in the Twenty workspace UI; it cannot be rotated by a Lambda, the operator rotates it there and updates this secret.';
    Validations.of(created).acknowledge(
      { id: 'AwsSolutions-SMG4', reason },
      { id: 'HIPAA.Security-SecretsManagerRotationEnabled', reason },
    );
    this.secret = created;
  }
}
