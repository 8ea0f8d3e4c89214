import { describe, expect, it } from "vitest";
import { channelForOwner } from "../../functions/core/realtime/channel";
import { ON_SUBSCRIBE_CODE } from "../../lib/realtime";
import { environmentIn, synthesize, synthesized } from "./support/synth";
import {
  actionsOf,
  joinedText,
  lambdaEnvironment,
  onlyResource,
  pipelineFunction,
  policyStatements,
  property,
  referencedId,
  referencedIds,
  resourcesOf,
  resourcesOfType,
} from "./support/template";

/**
 * The real-time channel's infrastructure (lib/realtime.ts): an AppSync Event API whose
 * subscribers use the HTTP API's JWTs, a `tasks` namespace whose onSubscribe handler keeps
 * each caller on its own channel, IAM publish for the functions that publish only (the api
 * directly, the executor through the relay queue), and the URLs the console reads.
 */

/** Runs the APPSYNC_JS handler in Node with a stand-in for `util.unauthorized`. */
function onSubscribe(sub: unknown, channel: string): "allowed" | "refused" {
  const body = ON_SUBSCRIBE_CODE.replace(/^import .*$/m, "").replace("export function", "function");
  const util = {
    unauthorized() {
      throw new Error("Unauthorized");
    },
  };
  const handler = new Function("util", `${body}; return onSubscribe;`)(util) as (
    ctx: unknown,
  ) => void;
  try {
    handler({ identity: { sub }, info: { channel: { path: channel } } });
    return "allowed";
  } catch {
    return "refused";
  }
}

describe("the real-time Event API", () => {
  it("authenticates subscribers with the HTTP API's issuer and audience, publishers with IAM", () => {
    // Prepare
    const { template } = synthesized("prod");
    const [, authorizer] = onlyResource(template, "AWS::ApiGatewayV2::Authorizer");
    const jwt = authorizer.Properties?.JwtConfiguration as { Issuer: unknown; Audience: unknown[] };

    // Act
    const [, api] = onlyResource(template, "AWS::AppSync::Api");
    const config = api.Properties?.EventConfig as Record<string, unknown>;
    const providers = config.AuthProviders as Array<Record<string, unknown>>;
    const oidc = providers.find((p) => p.AuthType === "OPENID_CONNECT")?.OpenIDConnectConfig as {
      Issuer: unknown;
      ClientId: unknown;
    };

    // Assess
    expect(oidc.Issuer).toEqual(jwt.Issuer);
    expect(oidc.ClientId).toEqual(jwt.Audience[0]);
    expect(providers.map((p) => p.AuthType).sort()).toEqual(["AWS_IAM", "OPENID_CONNECT"]);
    expect(config.ConnectionAuthModes).toEqual([{ AuthType: "OPENID_CONNECT" }]);
    expect(config.DefaultSubscribeAuthModes).toEqual([{ AuthType: "OPENID_CONNECT" }]);
    expect(config.DefaultPublishAuthModes).toEqual([{ AuthType: "AWS_IAM" }]);
  });

  it("takes an external issuer's audiences as the client id expression", () => {
    // Prepare
    const { template } = synthesize("staging", {
      editContext: (context) => {
        environmentIn(context, "staging").auth = {
          mode: "jwt",
          issuer: "https://login.example.com/",
          audience: ["task-pipeline-api", "web.app"],
        };
      },
    });

    // Act
    const [, api] = onlyResource(template, "AWS::AppSync::Api");
    const providers = property<{ AuthProviders: Array<Record<string, unknown>> }>(
      api,
      "EventConfig",
    ).AuthProviders;

    // Assess
    expect(providers).toContainEqual({
      AuthType: "OPENID_CONNECT",
      OpenIDConnectConfig: {
        Issuer: "https://login.example.com/",
        ClientId: "task-pipeline-api|web\\.app",
      },
    });
  });

  it("has the tasks namespace: IAM publish, JWT subscribe, and an onSubscribe handler", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const [, namespace] = onlyResource(template, "AWS::AppSync::ChannelNamespace");

    // Assess
    expect(namespace.Properties).toMatchObject({
      Name: "tasks",
      PublishAuthModes: [{ AuthType: "AWS_IAM" }],
      SubscribeAuthModes: [{ AuthType: "OPENID_CONNECT" }],
      CodeHandlers: ON_SUBSCRIBE_CODE,
    });
    expect(ON_SUBSCRIBE_CODE).toContain("export function onSubscribe(ctx)");
  });

  it("lets a caller subscribe to its own channel only (no other caller's, no wildcard)", () => {
    // Prepare
    const sub = "3f8e6a2c-1b2d-4c5e-8f90-a1b2c3d4e5f6";

    // Act + Assess
    expect(onSubscribe(sub, channelForOwner(sub))).toBe("allowed");
    expect(onSubscribe(sub, channelForOwner("someone-else"))).toBe("refused");
    expect(onSubscribe(sub, "/tasks/*")).toBe("refused");
    expect(onSubscribe(undefined, "/tasks/undefined")).toBe("refused");
    // A sub APPSYNC_JS cannot hash is refused rather than let through.
    expect(onSubscribe("alice@example.com", channelForOwner("alice@example.com"))).toBe("refused");
  });

  it("grants AppSync publish only to the api and the relay, on the tasks namespace only", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [namespaceId] = onlyResource(template, "AWS::AppSync::ChannelNamespace");
    const roleOf = (service: string) =>
      referencedId(pipelineFunction(template, service)[1].Properties?.Role) as string;

    // Act
    const appsync = policyStatements(template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith("appsync:")),
    );

    // Assess
    expect(new Set(appsync.flatMap((s) => s.roles))).toEqual(
      new Set([roleOf("api"), roleOf("realtimeRelay")]),
    );
    for (const statement of appsync) {
      expect(actionsOf(statement)).toEqual(["appsync:EventPublish"]);
      const resources = resourcesOf(statement).map(joinedText).join(" ");
      expect(resources).toContain("channelNamespace/tasks");
      expect(JSON.stringify(statement.Resource)).toContain(
        JSON.stringify(onlyResource(template, "AWS::AppSync::Api")[0]),
      );
    }
    expect(namespaceId).toBeTruthy();
  });

  it("has the executor publish through the relay queue (it has no route out of its VPC)", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, executor] = pipelineFunction(template, "executor");
    const [, api] = pipelineFunction(template, "api");
    const [, relay] = pipelineFunction(template, "realtimeRelay");

    // Act
    const queueId = referencedId(lambdaEnvironment(executor).REALTIME_QUEUE_URL);
    const relayName = pipelineFunction(template, "realtimeRelay")[0];
    const mapping = Object.values(
      resourcesOfType(template, "AWS::Lambda::EventSourceMapping"),
    ).find((m) => referencedId(m.Properties?.FunctionName) === relayName);
    const sends = policyStatements(template).filter(
      (s) =>
        actionsOf(s).includes("sqs:SendMessage") &&
        referencedIds(s.Resource).has(queueId as string),
    );

    // Assess
    expect(template.toJSON().Resources[queueId as string].Properties.FifoQueue).toBe(true);
    expect(referencedIds(mapping?.Properties?.EventSourceArn).has(queueId as string)).toBe(true);
    expect(sends.flatMap((s) => s.roles)).toEqual([referencedId(executor.Properties?.Role)]);
    expect(joinedText(lambdaEnvironment(api).REALTIME_PUBLISH_URL)).toMatch(
      /^https:\/\/.*\/event$/,
    );
    expect(joinedText(lambdaEnvironment(relay).REALTIME_PUBLISH_URL)).toMatch(
      /^https:\/\/.*\/event$/,
    );
    // The relay runs outside the VPC: that is how it reaches AppSync's public endpoint.
    expect(relay.Properties?.VpcConfig).toBeUndefined();
  });

  it("outputs what the console's config.json needs", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const outputs = template.findOutputs("*");

    // Assess
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(["ApiUrl", "RealtimeUrl", "RealtimeHttpHost"]),
    );
    expect(joinedText(outputs.RealtimeUrl?.Value)).toMatch(/^wss:\/\/.*\/event\/realtime$/);
  });
});
