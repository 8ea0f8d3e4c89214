import type { Template } from "aws-cdk-lib/assertions";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../../lib/config/loadEnvironment";
import { cdkJsonContext, synthesized } from "./support/synth";
import type { CfnResource } from "./support/template";
import * as cfn from "./support/template";

/** The executor Lambda's security group id. */
function executorGroupOf(template: Template): string {
  const [, executor] = cfn.pipelineFunction(template, "executor");
  const groups = cfn.property<{ SecurityGroupIds: unknown[] }>(
    executor,
    "VpcConfig",
  ).SecurityGroupIds;
  return cfn.referencedId(groups[0]) as string;
}

/** Every ingress rule that opens Ollama's port 11434, on any group. */
const ollamaPortRules = (template: Template) =>
  cfn
    .ingressRules(template)
    .filter((r) => Number(r.rule.FromPort) <= 11434 && Number(r.rule.ToPort) >= 11434);

describe("Ollama on an instance in the VPC (dev)", () => {
  it("opens port 11434 to the executor's security group and to nothing else", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, instance] = cfn.onlyResource(template, "AWS::EC2::Instance");
    const instanceGroups = (
      cfn.property<{ GroupSet: unknown[] }[]>(instance, "NetworkInterfaces")[0]?.GroupSet ?? []
    ).map(cfn.referencedId);

    // Act
    const rules = ollamaPortRules(template);
    const intoInstance = cfn
      .ingressRules(template)
      .filter((r) => instanceGroups.includes(r.groupId));

    // Assess
    expect(rules).toHaveLength(1);
    expect(cfn.referencedId(rules[0]?.rule.SourceSecurityGroupId)).toBe(executorGroupOf(template));
    expect(rules[0]?.rule).toMatchObject({ IpProtocol: "tcp", FromPort: 11434, ToPort: 11434 });
    // The instance takes no other inbound traffic at all (SSM needs none).
    expect(intoInstance).toEqual(rules);
  });

  it("has no public address, requires IMDSv2, encrypts its volume and is SSM-managed", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const [, instance] = cfn.onlyResource(template, "AWS::EC2::Instance");
    const subnet = cfn.referencedId(
      cfn.property<{ SubnetId: unknown }[]>(instance, "NetworkInterfaces")[0]?.SubnetId,
    ) as string;

    // Assess
    expect(instance.Properties).toMatchObject({
      InstanceType: "m7g.xlarge",
      Monitoring: true,
      NetworkInterfaces: [expect.objectContaining({ AssociatePublicIpAddress: false })],
      BlockDeviceMappings: [
        {
          DeviceName: "/dev/xvda",
          Ebs: expect.objectContaining({ Encrypted: true, VolumeSize: 40 }),
        },
      ],
    });
    expect(cfn.subnetTag(template, subnet, "aws-cdk:subnet-type")).toBe("Private");
    template.hasResourceProperties("AWS::EC2::LaunchTemplate", {
      LaunchTemplateData: { MetadataOptions: { HttpTokens: "required" } },
    });
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: "ec2.amazonaws.com" } })],
      },
      ManagedPolicyArns: [
        { "Fn::Join": ["", Match.arrayWith([":iam::aws:policy/AmazonSSMManagedInstanceCore"])] },
      ],
    });
    for (const service of ["ssm", "ssmmessages", "ec2messages"]) {
      template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
        ServiceName: {
          "Fn::Join": ["", ["com.amazonaws.", { Ref: "AWS::Region" }, `.${service}`]],
        },
      });
    }
  });

  it("installs Ollama and pulls every model of the settings at boot, listening on 11434", () => {
    // Prepare
    const { models } = loadEnvironment(cdkJsonContext().environments, "dev").settings.ollama;
    const { template } = synthesized("dev");

    // Act
    const [, instance] = cfn.onlyResource(template, "AWS::EC2::Instance");
    const userData = cfn.joinedText(
      cfn.property<{ "Fn::Base64": unknown }>(instance, "UserData")["Fn::Base64"],
    );

    // Assess
    expect(userData).toContain("https://ollama.com/install.sh");
    expect(userData).toContain('Environment="OLLAMA_HOST=0.0.0.0:11434"');
    expect(models.length).toBeGreaterThan(1);
    for (const model of models) expect(userData).toContain(`ollama pull ${model};`);
  });

  it("gives the model pulls a HOME (ollama/ollama#8756) and the service the environment's context length", () => {
    // Prepare
    const environments = cdkJsonContext().environments;
    const contexts = (["dev", "staging"] as const).map((name) => {
      const { ollama } = loadEnvironment(environments, name).settings;
      if (ollama.mode !== "instance") throw new Error(`${name} should run an instance`);
      return ollama.contextLength;
    });

    // Act
    const userData = (["dev", "staging"] as const).map((name) => {
      const [, instance] = cfn.onlyResource(synthesized(name).template, "AWS::EC2::Instance");
      return cfn.joinedText(
        cfn.property<{ "Fn::Base64": unknown }>(instance, "UserData")["Fn::Base64"],
      );
    });

    // Assess
    expect(contexts).toEqual([8192, 16384]);
    for (const [i, text] of userData.entries()) {
      const home = text.indexOf("export HOME=/root");
      expect(home).toBeGreaterThan(-1);
      expect(home).toBeLessThan(text.indexOf("ollama pull "));
      expect(text).toContain(`Environment="OLLAMA_CONTEXT_LENGTH=${contexts[i]}"`);
    }
  });

  it("points the executor's OLLAMA_HOST at the instance's private DNS name", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [instanceId] = cfn.onlyResource(template, "AWS::EC2::Instance");

    // Act
    const host = cfn.lambdaEnvironment(cfn.pipelineFunction(template, "executor")[1]).OLLAMA_HOST;

    // Assess
    expect(host).toEqual({
      "Fn::Join": ["", ["http://", { "Fn::GetAtt": [instanceId, "PrivateDnsName"] }, ":11434"]],
    });
  });
});

describe("Ollama over PrivateLink (prod)", () => {
  it("creates an interface endpoint to the configured service, open on 11434 to the executor only", () => {
    // Prepare
    const { ollama } = loadEnvironment(cdkJsonContext().environments, "prod").settings;
    const { template } = synthesized("prod");
    const endpoints = Object.entries(cfn.resourcesOfType(template, "AWS::EC2::VPCEndpoint"));

    // Act
    const [endpointId, endpoint] = endpoints.find(
      ([, e]) =>
        ollama.mode === "privateLink" && e.Properties?.ServiceName === ollama.endpointServiceName,
    ) as [string, CfnResource];
    const endpointGroups = cfn
      .property<unknown[]>(endpoint, "SecurityGroupIds")
      .map(cfn.referencedId);
    const rules = ollamaPortRules(template);

    // Assess
    expect(rules).toHaveLength(1);
    expect(endpointGroups).toContain(rules[0]?.groupId);
    expect(cfn.referencedId(rules[0]?.rule.SourceSecurityGroupId)).toBe(executorGroupOf(template));
    template.resourceCountIs("AWS::EC2::Instance", 0);
    expect(
      cfn.referencedIds(
        cfn.lambdaEnvironment(cfn.pipelineFunction(template, "executor")[1]).OLLAMA_HOST,
      ),
    ).toEqual(new Set([endpointId]));
  });
});

describe("Ollama at a URL (localstack)", () => {
  it("hands the URL to the executor and creates no instance or endpoint for it", () => {
    // Prepare
    const { ollama } = loadEnvironment(cdkJsonContext().environments, "localstack").settings;
    const { template } = synthesized("localstack");

    // Act
    const host = cfn.lambdaEnvironment(cfn.pipelineFunction(template, "executor")[1]).OLLAMA_HOST;

    // Assess
    expect(ollama.mode).toBe("external");
    expect(host).toBe(ollama.mode === "external" ? ollama.host : undefined);
    template.resourceCountIs("AWS::EC2::Instance", 0);
    expect(ollamaPortRules(template)).toEqual([]);
  });
});
