/**
 * The real-time channel (docs/design.md "Real time"): an AppSync Events API with the
 * `tasks` namespace, one channel per task owner (functions/core/realtime/channel.ts).
 *
 * - Subscribers connect and subscribe with the HTTP API's own JWTs: an OIDC auth provider
 *   with the same issuer and audience as the HTTP API's JWT authorizer (PipelineApi's
 *   jwtIssuer/jwtAudience, one definition). The namespace's onSubscribe handler (APPSYNC_JS)
 *   lets a caller subscribe to `/tasks/<its sub>` only (so no wildcards).
 * - Publishing is IAM only, granted per function on this namespace alone: the api Lambda
 *   (outside the VPC) publishes directly; the executor, in isolated subnets without a NAT,
 *   hands its publishes to a FIFO queue over its SQS endpoint and the relay Lambda
 *   publishes them. (AppSync's interface endpoint, com.amazonaws.<region>.appsync-api, serves
 *   private APIs; with its private DNS on, resources in the VPC can no longer reach public
 *   AppSync APIs by their URLs, and browsers need this API public:
 *   https://docs.aws.amazon.com/appsync/latest/devguide/using-private-apis.html.)
 */
import { Duration, type RemovalPolicy, Token, Validations } from "aws-cdk-lib";
import {
  AppSyncAuthorizationType,
  type ChannelNamespace,
  Code,
  EventApi,
} from "aws-cdk-lib/aws-appsync";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { CHANNEL_SEGMENT, TASKS_NAMESPACE } from "../functions/core/realtime/channel";
import { PipelineFunction } from "./lambda/pipelineFunction";

export interface RealtimeProps {
  readonly environmentName: string;
  /** The HTTP API's JWT issuer and audiences (PipelineApi.jwtIssuer, jwtAudience). */
  readonly jwtIssuer: string;
  readonly jwtAudience: readonly string[];
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The namespace's onSubscribe handler (APPSYNC_JS runtime). APPSYNC_JS has no SHA-256, so a
 * sub that is not channel-safe (never the case for Cognito's UUIDs) cannot be checked here
 * and is refused; an issuer with such subs needs a Lambda onSubscribe handler instead.
 */
export const ON_SUBSCRIBE_CODE = `import { util } from "@aws-appsync/utils";

export function onSubscribe(ctx) {
  const sub = ctx.identity && ctx.identity.sub;
  if (typeof sub !== "string" || !/${CHANNEL_SEGMENT.source}/.test(sub)) {
    util.unauthorized();
  }
  if (ctx.info.channel.path !== "/${TASKS_NAMESPACE}/" + sub) {
    util.unauthorized();
  }
}
`;

export class Realtime extends Construct {
  readonly api: EventApi;
  readonly namespace: ChannelNamespace;
  readonly relayQueue: Queue;
  readonly relayFunction: IFunction;
  /** The HTTP publish URL (`https://<http domain>/event`). */
  readonly publishUrl: string;
  /** What a browser connects to (`wss://<realtime domain>/event/realtime`). */
  readonly realtimeUrl: string;

  constructor(scope: Construct, id: string, props: RealtimeProps) {
    super(scope, id);
    const oidc = {
      authorizationType: AppSyncAuthorizationType.OIDC,
      openIdConnectConfig: {
        oidcProvider: props.jwtIssuer,
        // A regular expression of the accepted client ids (the audiences), as AppSync takes it.
        clientId: props.jwtAudience.map(escapeRegex).join("|"),
      },
    };
    this.api = new EventApi(this, "EventApi", {
      apiName: `task-pipeline-${props.environmentName}`,
      authorizationConfig: {
        authProviders: [oidc, { authorizationType: AppSyncAuthorizationType.IAM }],
        connectionAuthModeTypes: [AppSyncAuthorizationType.OIDC],
        defaultSubscribeAuthModeTypes: [AppSyncAuthorizationType.OIDC],
        defaultPublishAuthModeTypes: [AppSyncAuthorizationType.IAM],
      },
    });
    this.namespace = this.api.addChannelNamespace("Tasks", {
      channelNamespaceName: TASKS_NAMESPACE,
      code: Code.fromInline(ON_SUBSCRIBE_CODE),
      authorizationConfig: {
        publishAuthModeTypes: [AppSyncAuthorizationType.IAM],
        subscribeAuthModeTypes: [AppSyncAuthorizationType.OIDC],
      },
    });
    this.publishUrl = `https://${this.api.httpDns}/event`;
    this.realtimeUrl = `wss://${this.api.realtimeDns}/event/realtime`;

    this.relayQueue = new Queue(this, "RelayQueue", {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // An event older than a minute is stale: the subscriber has moved on (or reloaded).
      retentionPeriod: Duration.minutes(1),
      visibilityTimeout: Duration.seconds(30),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.relayQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "Real-time events are disposable (the task row is the truth): a publish the relay cannot make is logged, counted and dropped, never parked in a DLQ.",
    });
    const relay = new PipelineFunction(this, "Relay", {
      name: "realtimeRelay",
      environmentName: props.environmentName,
      environment: { REALTIME_PUBLISH_URL: this.publishUrl },
      timeout: Duration.seconds(25),
      memorySize: 256,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      functionProps: {
        description: `task-pipeline real-time relay (${props.environmentName}): the executor's events to AppSync Events`,
      },
    });
    this.relayFunction = relay.function;
    relay.function.addEventSource(new SqsEventSource(this.relayQueue, { batchSize: 10 }));
    this.namespace.grantPublish(relay.function);
  }

  /** A function outside the VPC publishes directly, with IAM, on this namespace only. */
  grantDirectPublish(
    fn: IFunction & { addEnvironment(key: string, value: string): unknown },
  ): void {
    fn.addEnvironment("REALTIME_PUBLISH_URL", this.publishUrl);
    this.namespace.grantPublish(fn);
  }

  /** A function without a route to AppSync publishes through the relay queue. */
  grantRelayedPublish(
    fn: IFunction & { addEnvironment(key: string, value: string): unknown },
  ): void {
    fn.addEnvironment("REALTIME_QUEUE_URL", this.relayQueue.queueUrl);
    this.relayQueue.grantSendMessages(fn);
  }
}

function escapeRegex(value: string): string {
  return Token.isUnresolved(value) ? value : value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
