import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { ScoreStore } from "../../core/ports/scores.ts";
import { EpochScores, RouterParams, type ShadowAnswer, WeightSubmission } from "../../core/scores/schema.ts";

/**
 * ScoreStore on the `scores` table. Items:
 * - `SCORES#<task>` / `EPOCH#<epoch:10>`: one epoch's rows (one item per task and epoch keeps reads to one GetItem).
 * - `SUBMIT#<netuid>` / `EPOCH#<epoch:10>`: the weight submission, created with attribute_not_exists (first claim wins).
 * - `ROUTER#<task>` / `LATEST`: router parameters, replaced only by a newer version.
 * - `SHADOW#<hotkey>` / `JOB#<jobId>`: a newcomer's shadow answer (one item per job: a replay overwrites it).
 * Epochs are zero-padded so the sort key orders them numerically.
 */
const pad = (epoch: number) => String(epoch).padStart(10, "0");

export class DynamoScoreStore implements ScoreStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly onCorrupt: (what: string, error: unknown) => void = () => {},
  ) {}

  async putEpochScores(scores: EpochScores): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `SCORES#${scores.task}`, sk: `EPOCH#${pad(scores.epoch)}`, ...scores },
      }),
    );
  }

  async epochScores(task: string, epoch: number): Promise<EpochScores | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `SCORES#${task}`, sk: `EPOCH#${pad(epoch)}` } }),
    );
    return this.parse(EpochScores, out.Item, `scores ${task}/${epoch}`);
  }

  async latestScores(task: string): Promise<EpochScores | null> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `SCORES#${task}` },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return this.parse(EpochScores, out.Items?.[0], `latest scores ${task}`);
  }

  async claimSubmission(submission: WeightSubmission): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `SUBMIT#${submission.netuid}`, sk: `EPOCH#${pad(submission.epoch)}`, ...submission },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async updateSubmission(netuid: number, epoch: number, patch: Partial<WeightSubmission>): Promise<void> {
    const entries = Object.entries(patch).filter(([k, v]) => v !== undefined && k !== "netuid" && k !== "epoch");
    if (entries.length === 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `SUBMIT#${netuid}`, sk: `EPOCH#${pad(epoch)}` },
        UpdateExpression: `SET ${entries.map((_, i) => `#k${i} = :v${i}`).join(", ")}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
        ConditionExpression: "attribute_exists(pk)",
      }),
    );
  }

  async submission(netuid: number, epoch: number): Promise<WeightSubmission | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `SUBMIT#${netuid}`, sk: `EPOCH#${pad(epoch)}` } }),
    );
    return this.parse(WeightSubmission, out.Item, `submission ${netuid}/${epoch}`);
  }

  async recentSubmissions(netuid: number, limit: number): Promise<WeightSubmission[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": `SUBMIT#${netuid}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).flatMap((item) => this.parse(WeightSubmission, item, "submission") ?? []);
  }

  async putRouter(params: RouterParams): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `ROUTER#${params.task}`, sk: "LATEST", ...params },
          // A slower validator must not roll the router back to older parameters.
          ConditionExpression: "attribute_not_exists(pk) OR version <= :v",
          ExpressionAttributeValues: { ":v": params.version },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async latestRouter(task: string): Promise<RouterParams | null> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `ROUTER#${task}`, sk: "LATEST" } }),
    );
    return this.parse(RouterParams, out.Item, `router ${task}`);
  }

  async recordShadowAnswer(answer: ShadowAnswer): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `SHADOW#${answer.hotkey}`, sk: `JOB#${answer.jobId}`, ...answer },
      }),
    );
  }

  async shadowAnswerCount(hotkey: string, limit: number): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: { ":pk": `SHADOW#${hotkey}` },
          Select: "COUNT",
          Limit: limit - count,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start !== undefined && count < limit);
    return Math.min(count, limit);
  }

  private parse<T>(
    schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: unknown } },
    item: unknown,
    what: string,
  ): T | null {
    if (item === undefined) return null;
    const parsed = schema.safeParse(item);
    if (parsed.success) return parsed.data;
    this.onCorrupt(what, parsed.error);
    return null;
  }
}
