import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { taskManifest } from '../lambdas/tasks/manifest.ts';
import { parseFerryContext } from '../lib/infra/app-config.ts';
import { FerryStack } from '../lib/infra/ferry-stack.ts';

/**
 * The CDK app. cdk-nag's AWS Solutions and HIPAA Security packs run as policy-validation plugins on
 * every synth: any finding that is not acknowledged on its resource, with a reason, fails the synth.
 */
const app = new App();
const context = parseFerryContext((key) => app.node.tryGetContext(key));

new FerryStack(app, context.stackName, {
  description: 'Ferry: migrates a practice-management export into Twenty CRM',
  tasks: taskManifest,
  twentySecretArn: context.twentySecretArn,
  deltaSchedule: context.deltaSchedule,
  deltaFolder: context.deltaFolder,
  ...(context.deltaWindowStart === undefined ? {} : { deltaWindowStart: new Date(context.deltaWindowStart) }),
  ...(context.deltaWindowEnd === undefined ? {} : { deltaWindowEnd: new Date(context.deltaWindowEnd) }),
  alarmEmail: context.alarmEmail,
  reservedConcurrency: context.reservedConcurrency,
  ratePreset: context.ratePreset,
  batchMax: context.batchMax,
  logLevel: context.logLevel,
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
app.synth();
