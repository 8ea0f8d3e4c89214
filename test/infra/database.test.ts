import { Match } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { hashMigrations } from "../../lib/migrations";
import { projectPath } from "../../lib/paths";
import { synthesized } from "./support/synth";
import * as cfn from "./support/template";

describe("the Aurora cluster", () => {
  it("is PostgreSQL 17.4+ Serverless v2 with the Data API on, encrypted, credentials from Secrets Manager", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const [, cluster] = cfn.onlyResource(template, "AWS::RDS::DBCluster");

    // Assess
    template.hasResourceProperties("AWS::RDS::DBCluster", {
      Engine: "aurora-postgresql",
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      DatabaseName: "tasks",
      // Pauses after 5 minutes without a connection (scale to zero leaves it none).
      ServerlessV2ScalingConfiguration: {
        MinCapacity: 0,
        MaxCapacity: 2,
        SecondsUntilAutoPause: 300,
      },
      MasterUserPassword: {
        "Fn::Join": [
          "",
          Match.arrayWith(["{{resolve:secretsmanager:", ":SecretString:password::}}"]),
        ],
      },
    });
    const [major, minor] = String(cluster.Properties?.EngineVersion).split(".").map(Number);
    expect((major ?? 0) * 100 + (minor ?? 0)).toBeGreaterThanOrEqual(1704);
    template.resourceCountIs("AWS::SecretsManager::Secret", 1);
  });

  it("takes its capacity from the environment's settings", () => {
    // Prepare
    const { template } = synthesized("prod");

    // Act
    const [, cluster] = cfn.onlyResource(template, "AWS::RDS::DBCluster");

    // Assess: prod's cdk.json says 0.5 to 16 ACU, so it never pauses (no resume delay).
    expect(cluster.Properties?.ServerlessV2ScalingConfiguration).toEqual({
      MinCapacity: 0.5,
      MaxCapacity: 16,
    });
  });

  it("is never public: no public instance, isolated subnets only, no ingress but the rotation Lambda's", () => {
    // Prepare
    const { template } = synthesized("prod");
    const [clusterId, cluster] = cfn.onlyResource(template, "AWS::RDS::DBCluster");
    const [, subnetGroup] = cfn.onlyResource(template, "AWS::RDS::DBSubnetGroup");
    const instances = Object.values(cfn.resourcesOfType(template, "AWS::RDS::DBInstance"));
    const clusterGroups = cfn
      .property<unknown[]>(cluster, "VpcSecurityGroupIds")
      .map(cfn.referencedId);
    const rotationGroups = Object.keys(
      cfn.resourcesOfType(template, "AWS::EC2::SecurityGroup"),
    ).filter((id) => id.startsWith("DatabaseRotationSecurityGroup"));

    // Act
    const subnetIds = cfn.property<unknown[]>(subnetGroup, "SubnetIds").map(cfn.referencedId);
    const ingressToCluster = cfn
      .ingressRules(template)
      .filter((r) => clusterGroups.includes(r.groupId));

    // Assess
    expect(clusterId).toBeTruthy();
    expect(instances.length).toBeGreaterThan(0);
    for (const instance of instances) expect(instance.Properties?.PubliclyAccessible).toBe(false);
    for (const subnet of subnetIds) {
      expect(cfn.subnetTag(template, subnet as string, "aws-cdk:subnet-type")).toBe("Isolated");
      expect(cfn.subnetsWithRouteOut(template).has(subnet as string)).toBe(false);
    }
    expect(rotationGroups).toHaveLength(1);
    expect(ingressToCluster.map((r) => cfn.referencedId(r.rule.SourceSecurityGroupId))).toEqual(
      rotationGroups,
    );
  });

  it("has no ingress at all where the secret is not rotated (dev)", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [, cluster] = cfn.onlyResource(template, "AWS::RDS::DBCluster");
    const clusterGroups = cfn
      .property<unknown[]>(cluster, "VpcSecurityGroupIds")
      .map(cfn.referencedId);

    // Act
    const ingressToCluster = cfn
      .ingressRules(template)
      .filter((r) => clusterGroups.includes(r.groupId));

    // Assess
    expect(ingressToCluster).toEqual([]);
  });

  it("prod: deletion protection on, and the cluster, its instances and its secret are retained", () => {
    // Prepare
    const { template } = synthesized("prod");

    // Act
    const retained = (type: string) =>
      Object.values(cfn.resourcesOfType(template, type)).map((r) => [
        r.DeletionPolicy,
        r.UpdateReplacePolicy,
      ]);

    // Assess
    template.hasResourceProperties("AWS::RDS::DBCluster", { DeletionProtection: true });
    for (const type of [
      "AWS::RDS::DBCluster",
      "AWS::RDS::DBInstance",
      "AWS::SecretsManager::Secret",
    ]) {
      expect(retained(type).length).toBeGreaterThan(0);
      for (const policies of retained(type)) expect(policies).toEqual(["Retain", "Retain"]);
    }
    template.hasResourceProperties("AWS::SecretsManager::RotationSchedule", {
      RotationRules: { ScheduleExpression: "rate(30 days)" },
    });
  });

  it("dev: disposable (no deletion protection, deleted with the stack)", () => {
    // Prepare
    const { template } = synthesized("dev");

    // Act
    const [, cluster] = cfn.onlyResource(template, "AWS::RDS::DBCluster");

    // Assess
    expect(cluster.Properties?.DeletionProtection).toBe(false);
    expect(cluster.DeletionPolicy).toBe("Delete");
    template.resourceCountIs("AWS::SecretsManager::RotationSchedule", 0);
  });
});

describe("the migrations custom resource", () => {
  it("runs the migrate Lambda with a hash of migrations/ so a changed file re-runs it", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [migrateId] = cfn.pipelineFunction(template, "migrate");
    const [clusterId] = cfn.onlyResource(template, "AWS::RDS::DBCluster");

    // Act
    const [, migrations] = cfn.onlyResource(template, "Custom::TaskPipelineMigrations");

    // Assess
    expect(migrations.Properties?.MigrationsHash).toBe(hashMigrations(projectPath("migrations")));
    expect(migrations.Properties?.MigrationsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cfn.referencedIds(migrations.Properties?.ClusterArn).has(clusterId)).toBe(true);
    // The provider's framework function invokes the migrate Lambda.
    const framework = Object.values(cfn.resourcesOfType(template, "AWS::Lambda::Function")).find(
      (fn) => cfn.referencedIds(fn.Properties?.Environment).has(migrateId),
    );
    expect(framework).toBeDefined();
    expect(cfn.referencedIds(migrations.Properties?.ServiceToken).size).toBe(1);
  });

  it("waits for the cluster's writer, and the schedule and API wait for it", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [migrationsId, migrations] = cfn.onlyResource(template, "Custom::TaskPipelineMigrations");
    const [writerId] = cfn.onlyResource(template, "AWS::RDS::DBInstance");
    const [, rule] = cfn.onlyResource(template, "AWS::Events::Rule");
    const [, stage] = cfn.onlyResource(template, "AWS::ApiGatewayV2::Stage");

    // Act
    const dependsOn = (r: { DependsOn?: string | string[] }) => [r.DependsOn ?? []].flat();

    // Assess
    expect(dependsOn(migrations)).toContain(writerId);
    expect(dependsOn(rule)).toContain(migrationsId);
    expect(dependsOn(stage)).toContain(migrationsId);
  });

  it("gives the api, executor and migrate Lambdas the Data API settings of this cluster", () => {
    // Prepare
    const { template } = synthesized("dev");
    const [clusterId] = cfn.onlyResource(template, "AWS::RDS::DBCluster");
    const [secretAttachmentId] = cfn.onlyResource(
      template,
      "AWS::SecretsManager::SecretTargetAttachment",
    );

    for (const service of ["api", "executor", "migrate"]) {
      // Act
      const environment = cfn.lambdaEnvironment(cfn.pipelineFunction(template, service)[1]);

      // Assess
      expect(cfn.referencedIds(environment.DB_CLUSTER_ARN)).toEqual(new Set([clusterId]));
      expect(cfn.referencedId(environment.DB_SECRET_ARN)).toBe(secretAttachmentId);
      expect(environment.DB_NAME).toBe("tasks");
    }
  });
});
