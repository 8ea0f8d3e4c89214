import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { Alarm, Metric } from "aws-cdk-lib/aws-cloudwatch";
import { Ec2Action, Ec2InstanceAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { describe, expect, it } from "vitest";
import {
  type CfnTemplate,
  extractInventory,
  hasEc2StopAction,
  invocationsPerMonth,
} from "../../../cost/template";

const STOP_ACTION_JOIN = {
  "Fn::Join": [
    "",
    ["arn:", { Ref: "AWS::Partition" }, ":automate:", { Ref: "AWS::Region" }, ":ec2:stop"],
  ],
};

const instance = {
  Type: "AWS::EC2::Instance",
  Properties: {
    InstanceType: "m7g.xlarge",
    BlockDeviceMappings: [{ DeviceName: "/dev/xvda", Ebs: { VolumeSize: 40, VolumeType: "gp3" } }],
  },
};

describe("extractInventory", () => {
  it("counts interface endpoints with their AZs and gateway endpoints apart", () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        A: {
          Type: "AWS::EC2::VPCEndpoint",
          Properties: { VpcEndpointType: "Interface", SubnetIds: [{ Ref: "S1" }] },
        },
        B: {
          Type: "AWS::EC2::VPCEndpoint",
          Properties: { VpcEndpointType: "Interface", SubnetIds: [{ Ref: "S1" }, { Ref: "S2" }] },
        },
        // No VpcEndpointType: CloudFormation's default, Gateway.
        C: { Type: "AWS::EC2::VPCEndpoint", Properties: {} },
      },
    };

    // Act
    const inventory = extractInventory(template);

    // Assess
    expect(inventory.interfaceEndpoints).toEqual([
      { id: "A", azs: 1 },
      { id: "B", azs: 2 },
    ]);
    expect(inventory.gatewayEndpoints).toBe(1);
  });

  it("reads Aurora's Serverless v2 minimum and auto-pause", () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        Paused: {
          Type: "AWS::RDS::DBCluster",
          Properties: {
            ServerlessV2ScalingConfiguration: {
              MinCapacity: 0,
              MaxCapacity: 2,
              SecondsUntilAutoPause: 300,
            },
          },
        },
        Warm: {
          Type: "AWS::RDS::DBCluster",
          Properties: { ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 } },
        },
        Provisioned: { Type: "AWS::RDS::DBCluster", Properties: {} },
      },
    };

    // Act
    const { auroraClusters } = extractInventory(template);

    // Assess
    expect(auroraClusters).toEqual([
      { id: "Paused", minCapacity: 0, maxCapacity: 2, secondsUntilAutoPause: 300 },
      { id: "Warm", minCapacity: 0.5, maxCapacity: 16, secondsUntilAutoPause: undefined },
    ]);
  });

  it("reads an instance's type and volumes, off when idle only with an ec2:stop alarm", () => {
    // Prepare
    const withoutStop: CfnTemplate = {
      Resources: {
        Instance: instance,
        Mail: {
          Type: "AWS::CloudWatch::Alarm",
          Properties: { AlarmActions: [{ Ref: "Topic" }] },
        },
      },
    };
    const withStop: CfnTemplate = {
      Resources: {
        ...withoutStop.Resources,
        IdleStop: {
          Type: "AWS::CloudWatch::Alarm",
          Properties: { AlarmActions: [STOP_ACTION_JOIN] },
        },
      },
    };

    // Act
    const running = extractInventory(withoutStop).instances;
    const stopped = extractInventory(withStop).instances;

    // Assess
    expect(running).toEqual([
      {
        id: "Instance",
        instanceType: "m7g.xlarge",
        volumes: [{ sizeGb: 40, type: "gp3" }],
        offWhenIdle: false,
      },
    ]);
    expect(stopped.map((i) => i.offWhenIdle)).toEqual([true]);
  });

  it("finds the scheduled rule's target function and each function's memory and architecture", () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        Executor: {
          Type: "AWS::Lambda::Function",
          Properties: { MemorySize: 512, Architectures: ["arm64"] },
        },
        Defaults: { Type: "AWS::Lambda::Function", Properties: {} },
        Tick: {
          Type: "AWS::Events::Rule",
          Properties: {
            ScheduleExpression: "rate(1 minute)",
            Targets: [{ Arn: { "Fn::GetAtt": ["Executor", "Arn"] } }],
          },
        },
        Nightly: {
          Type: "AWS::Events::Rule",
          Properties: { ScheduleExpression: "cron(0 3 * * ? *)", Targets: [] },
        },
      },
    };

    // Act
    const inventory = extractInventory(template);

    // Assess
    expect(inventory.functions).toEqual([
      { id: "Executor", memoryMb: 512, architecture: "arm64" },
      { id: "Defaults", memoryMb: 128, architecture: "x86_64" },
    ]);
    expect(inventory.schedules).toEqual([
      { id: "Tick", invocationsPerMonth: 43_800, targetFunctionIds: ["Executor"] },
    ]);
  });

  it("counts SQS event sources (not other streams), the API's function and the rest", () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        Queue: { Type: "AWS::SQS::Queue" },
        Table: { Type: "AWS::DynamoDB::Table" },
        FromQueue: {
          Type: "AWS::Lambda::EventSourceMapping",
          Properties: { EventSourceArn: { "Fn::GetAtt": ["Queue", "Arn"] } },
        },
        FromStream: {
          Type: "AWS::Lambda::EventSourceMapping",
          Properties: { EventSourceArn: { "Fn::GetAtt": ["Table", "StreamArn"] } },
        },
        Integration: {
          Type: "AWS::ApiGatewayV2::Integration",
          Properties: { IntegrationUri: { "Fn::GetAtt": ["Api", "Arn"] } },
        },
        Bucket: { Type: "AWS::S3::Bucket" },
        Build: {
          Type: "AWS::CodeBuild::Project",
          Properties: {
            Environment: { ComputeType: "BUILD_GENERAL1_SMALL", Type: "ARM_CONTAINER" },
          },
        },
        Nat: { Type: "AWS::EC2::NatGateway" },
        Ip: { Type: "AWS::EC2::EIP" },
      },
    };

    // Act
    const inventory = extractInventory(template);

    // Assess
    expect(inventory.sqsPollers).toBe(1);
    expect(inventory.apiFunctionIds).toEqual(["Api"]);
    expect(inventory.s3Buckets).toBe(1);
    expect(inventory.codeBuildProjects).toEqual([
      { id: "Build", computeType: "BUILD_GENERAL1_SMALL", environmentType: "ARM_CONTAINER" },
    ]);
    expect([inventory.natGateways, inventory.elasticIps]).toEqual([1, 1]);
  });
});

describe("hasEc2StopAction", () => {
  it("recognizes the stop action as a string or an Fn::Join, and nothing else", () => {
    // Prepare
    const asString = ["arn:aws:automate:us-east-1:ec2:stop"];
    const asJoin = [STOP_ACTION_JOIN];
    const terminate = ["arn:aws:automate:us-east-1:ec2:terminate"];
    const topic = [{ Ref: "AlarmTopic" }];

    // Act
    const found = [asString, asJoin, terminate, topic, undefined].map(hasEc2StopAction);

    // Assess
    expect(found).toEqual([true, true, false, false, false]);
  });

  it("recognizes the action CDK's Ec2Action(STOP) synthesizes in an env-agnostic stack", () => {
    // Prepare
    const stack = new Stack(new App(), "IdleStop");
    const alarm = new Alarm(stack, "Idle", {
      metric: new Metric({ namespace: "AWS/EC2", metricName: "CPUUtilization" }),
      threshold: 2,
      evaluationPeriods: 6,
    });
    alarm.addAlarmAction(new Ec2Action(Ec2InstanceAction.STOP));
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;

    // Act
    const actions = Object.values(template.Resources ?? {}).map((resource) =>
      hasEc2StopAction(resource.Properties?.AlarmActions),
    );

    // Assess
    expect(actions).toEqual([true]);
  });
});

describe("invocationsPerMonth", () => {
  it("counts rate expressions over 730 h and ignores cron", () => {
    // Prepare
    const expressions = [
      "rate(1 minute)",
      "rate(5 minutes)",
      "rate(1 hour)",
      "rate(1 day)",
      "cron(0 3 * * ? *)",
    ];

    // Act
    const counts = expressions.map(invocationsPerMonth);

    // Assess: 730 h × 60 = 43,800 minutes; 43,800 / 5; 730 h; 730 / 24 days.
    expect(counts).toEqual([43_800, 8_760, 730, 730 / 24, undefined]);
  });
});
