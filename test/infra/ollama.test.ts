import type { Template } from "aws-cdk-lib/assertions";
import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { loadEnvironment } from "../../lib/config/loadEnvironment";
import { cdkJsonContext, environmentIn, synthesize, synthesized } from "./support/synth";
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

  it("has no public address and no route out, requires IMDSv2, encrypts its volume, and has no Session Manager unless opted in", () => {
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
    expect(cfn.subnetTag(template, subnet, "aws-cdk:subnet-type")).toBe("Isolated");
    expect(cfn.subnetsWithRouteOut(template).has(subnet)).toBe(false);
    template.hasResourceProperties("AWS::EC2::LaunchTemplate", {
      LaunchTemplateData: { MetadataOptions: { HttpTokens: "required" } },
    });
    const managed = JSON.stringify(cfn.resourcesOfType(template, "AWS::IAM::Role"));
    expect(managed).not.toContain("AmazonSSMManagedInstanceCore");
    const endpoints = JSON.stringify(cfn.resourcesOfType(template, "AWS::EC2::VPCEndpoint"));
    for (const service of ["ssm", "ssmmessages", "ec2messages"]) {
      expect(endpoints).not.toContain(`.${service}"`);
    }
  });

  it("gets Session Manager's policy and its three endpoints, open to the instance only, when opted in", () => {
    // Prepare
    const { template } = synthesize("dev", {
      editContext: (context) => {
        environmentIn(context, "dev").ollama.sessionManager = true;
      },
    });

    // Act
    const [, instance] = cfn.onlyResource(template, "AWS::EC2::Instance");
    const instanceGroup = cfn.referencedId(
      cfn.property<{ GroupSet: unknown[] }[]>(instance, "NetworkInterfaces")[0]?.GroupSet[0],
    );

    // Assess
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: "ec2.amazonaws.com" } })],
      },
      ManagedPolicyArns: [
        { "Fn::Join": ["", Match.arrayWith([":iam::aws:policy/AmazonSSMManagedInstanceCore"])] },
      ],
    });
    for (const service of ["ssm", "ssmmessages", "ec2messages"]) {
      const endpoint = Object.values(cfn.resourcesOfType(template, "AWS::EC2::VPCEndpoint")).find(
        (e) => cfn.joinedText(e.Properties?.ServiceName).endsWith(`.${service}`),
      );
      const groups = cfn.property<unknown[]>(endpoint, "SecurityGroupIds").map(cfn.referencedId);
      const sources = cfn
        .ingressRules(template)
        .filter((r) => groups.includes(r.groupId))
        .map((r) => cfn.referencedId(r.rule.SourceSecurityGroupId));
      expect(sources, service).toEqual([instanceGroup]);
      expect(cfn.property<unknown[]>(endpoint, "SubnetIds"), service).toHaveLength(1);
    }
  });

  it("installs Ollama and its models from the S3 stage at first boot, listening on 11434, with the environment's context length", () => {
    for (const name of ["dev", "staging"] as const) {
      // Prepare
      const { ollama } = loadEnvironment(cdkJsonContext().environments, name).settings;
      if (ollama.mode !== "instance") throw new Error(`${name} should run an instance`);
      const { template } = synthesized(name);

      // Act
      const [, instance] = cfn.onlyResource(template, "AWS::EC2::Instance");
      const userData = cfn.joinedText(
        cfn.property<{ "Fn::Base64": unknown }>(instance, "UserData")["Fn::Base64"],
      );

      // Assess
      expect(userData).not.toContain("https://ollama.com");
      expect(userData).toMatch(/until aws s3 --region .* cp "\$STAGE\/manifest.json"/);
      expect(userData).toContain('sync "$STAGE/models" /usr/share/ollama/models');
      expect(userData).toMatch(
        /STAGE="s3:\/\/<OllamaStagingBucket[0-9A-F]+>\/ollama\/[0-9a-f]{16}"/,
      );
      expect(userData).toContain('Environment="OLLAMA_HOST=0.0.0.0:11434"');
      expect(userData).toContain(`Environment="OLLAMA_CONTEXT_LENGTH=${ollama.contextLength}"`);
      expect(userData).toContain("systemctl enable --now ollama");
    }
  });

  it("stages them with a CodeBuild project outside the VPC, started on deploy, writing only its prefix", () => {
    // Prepare
    const { models } = loadEnvironment(cdkJsonContext().environments, "dev").settings.ollama;
    const { template } = synthesized("dev");

    // Act
    const [projectId, project] = cfn.onlyResource(template, "AWS::CodeBuild::Project");
    const environment = cfn.property<{
      Type: string;
      EnvironmentVariables: { Name: string; Value: unknown }[];
    }>(project, "Environment");
    const variables = Object.fromEntries(
      environment.EnvironmentVariables.map((v) => [v.Name, cfn.joinedText(v.Value)]),
    );
    const buildSpec = cfn.joinedText(
      cfn.property<{ BuildSpec: unknown }>(project, "Source").BuildSpec,
    );
    const start = Object.values(cfn.resourcesOfType(template, "Custom::AWS")).at(0);
    const projectRole = cfn.referencedId(project.Properties?.ServiceRole);
    const projectS3 = cfn
      .policyStatements(template)
      .filter((st) => st.roles.includes(projectRole as string))
      .filter((st) => cfn.actionsOf(st).some((a) => a.startsWith("s3:")));

    // Assess
    expect(project.Properties?.VpcConfig).toBeUndefined();
    expect(environment.Type).toBe("ARM_CONTAINER"); // m7g: arm64, as the instance
    expect(variables.MODELS).toBe(models.join(" "));
    expect(variables.STAGE).toMatch(/\/ollama\/[0-9a-f]{16}$/);
    expect(buildSpec).toContain("https://ollama.com/install.sh");
    expect(buildSpec).toContain('ollama pull \\"$model\\"');
    expect(buildSpec.indexOf("manifest.json")).toBeGreaterThan(buildSpec.indexOf("s3 sync"));
    expect(JSON.stringify(start?.Properties?.Create)).toContain("startBuild");
    expect(JSON.stringify(start?.Properties?.Create)).toContain(projectId);
    for (const statement of projectS3) {
      for (const resource of cfn.resourcesOf(statement)) {
        expect(cfn.joinedText(resource)).toMatch(
          /^arn:.*<OllamaStagingBucket[0-9A-F]+>(\/ollama\/[0-9a-f]{16}\/\*)?$|<OllamaStagingBucket[0-9A-F]+>(\/ollama\/[0-9a-f]{16}\/\*)?$/,
        );
      }
    }
  });

  it("keeps the stage private, encrypted and TLS only, and lets the instance read its prefix only", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [bucketId, bucket] = Object.entries(
      cfn.resourcesOfType(template, "AWS::S3::Bucket"),
    ).find(([id]) => id.startsWith("OllamaStagingBucket")) as [string, CfnResource];
    const [, instance] = cfn.onlyResource(template, "AWS::EC2::Instance");
    const profile = cfn.resourcesOfType(template, "AWS::IAM::InstanceProfile");
    const role = cfn.referencedId(
      cfn.property<unknown[]>(Object.values(profile)[0], "Roles")[0],
    ) as string;

    // Act
    const statements = cfn
      .policyStatements(template)
      .filter((st) => st.roles.includes(role))
      .flatMap((st) => cfn.actionsOf(st).map((a) => [a, cfn.resourcesOf(st).map(cfn.joinedText)]));

    // Assess
    expect(instance.Properties?.IamInstanceProfile).toBeDefined();
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } },
        ],
      },
      PublicAccessBlockConfiguration: expect.objectContaining({ BlockPublicPolicy: true }),
    });
    expect(statements).toEqual([
      [
        "s3:GetObject",
        [expect.stringMatching(new RegExp(`^<${bucketId}>/ollama/[0-9a-f]{16}/\\*$`))],
      ],
      ["s3:ListBucket", [expect.stringContaining(bucketId)]],
    ]);
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
