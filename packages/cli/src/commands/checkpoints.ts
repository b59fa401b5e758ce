import type { Checkpoint, ProgressStream } from '@sprites/sdk';
import { flag, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { ago, io, note, printJson, printTable } from '../output.js';
import { spriteOf } from '../target.js';

function checkpointJson(c: Checkpoint): Record<string, unknown> {
  return {
    id: c.id,
    create_time: c.createTime.toISOString(),
    comment: c.comment ?? null,
    history: c.history ?? [],
    is_auto: c.isAuto ?? false,
    source_id: c.sourceId ?? null,
  };
}

/** Shows a progress stream (to stderr, or as JSON lines with --json); exit 1 on an error line. */
async function follow(stream: ProgressStream, json: boolean): Promise<number> {
  let code = 1;
  for await (const m of stream) {
    if (json)
      io.stdout.write(
        `${JSON.stringify({ type: m.type, data: m.data, error: m.error, time: m.time?.toISOString() })}\n`,
      );
    else if (m.type === 'error') note(`error: ${m.error ?? m.data ?? 'failed'}`);
    else if (m.data) note(m.data);
    if (m.type === 'complete') code = 0;
    if (m.type === 'error') code = 1;
  }
  return code;
}

const create: Command = {
  name: 'create',
  summary: "Checkpoint the sprite's disk (milliseconds, any size)",
  usage: 'checkpoint create [--comment TEXT]',
  options: [{ name: 'comment', short: 'm', value: true, placeholder: 'TEXT', help: 'a note kept with the checkpoint' }],
  examples: ['sprite checkpoint create -s demo --comment "before upgrade"'],
  async run(p) {
    const { sprite } = spriteOf(p);
    return follow(await sprite.createCheckpoint(str(p, 'comment')), flag(p, 'json'));
  },
};

const list: Command = {
  name: 'list',
  aliases: ['ls'],
  summary: 'List checkpoints, newest first',
  usage: 'checkpoint list [--history ID] [--include-auto] [--json]',
  options: [
    { name: 'history', value: true, placeholder: 'ID', help: 'only ID and the checkpoints that descend from it' },
    { name: 'include-auto', help: 'also the automatic checkpoints taken before restores' },
  ],
  examples: ['sprite checkpoint ls -s demo', 'sprite checkpoint list --include-auto --json'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const checkpoints = await sprite.listCheckpoints({
      history: str(p, 'history'),
      includeAuto: flag(p, 'include-auto'),
    });
    if (flag(p, 'json')) printJson(checkpoints.map(checkpointJson));
    else if (checkpoints.length === 0)
      note(`No checkpoints of ${sprite.name}. Take one with \`sprite checkpoint create\`.`);
    else
      printTable(
        ['ID', 'CREATED', 'COMMENT'],
        checkpoints.map((c) => [c.id, ago(c.createTime), c.comment ?? '']),
      );
    return 0;
  },
};

const info: Command = {
  name: 'info',
  summary: "Show a checkpoint's details",
  usage: 'checkpoint info ID [--json]',
  examples: ['sprite checkpoint info v3 -s demo'],
  async run(p) {
    const id = p.positionals[0];
    if (!id) throw new UsageError('which checkpoint? sprite checkpoint info ID');
    const { sprite } = spriteOf(p);
    const c = await sprite.getCheckpoint(id);
    if (flag(p, 'json')) printJson(checkpointJson(c));
    else {
      io.stdout.write(
        `ID:       ${c.id}\nCreated:  ${c.createTime.toISOString()} (${ago(c.createTime)})\nComment:  ${c.comment ?? '-'}\nAuto:     ${c.isAuto ? 'yes' : 'no'}\nHistory:  ${(c.history ?? []).join(' ← ') || '-'}\n`,
      );
    }
    return 0;
  },
};

const remove: Command = {
  name: 'delete',
  aliases: ['rm'],
  summary: 'Delete a checkpoint (not the one the disk descends from)',
  usage: 'checkpoint delete ID',
  examples: ['sprite checkpoint rm v1 -s demo'],
  async run(p) {
    const id = p.positionals[0];
    if (!id) throw new UsageError('which checkpoint? sprite checkpoint delete ID');
    const { sprite } = spriteOf(p);
    await sprite.deleteCheckpoint(id);
    note(`Deleted checkpoint ${id}`);
    return 0;
  },
};

const restore: Command = {
  name: 'restore',
  summary: "Replace the sprite's disk with a checkpoint's and restart it (an auto checkpoint is taken first)",
  usage: 'restore ID',
  examples: ['sprite restore v3 -s demo'],
  async run(p) {
    const id = p.positionals[0];
    if (!id) throw new UsageError('which checkpoint? sprite restore ID (see `sprite checkpoint list`)');
    const { sprite } = spriteOf(p);
    return follow(await sprite.restoreCheckpoint(id), flag(p, 'json'));
  },
};

const checkpoint: Command = {
  name: 'checkpoint',
  aliases: ['checkpoints', 'cp'],
  summary: 'Create, list, inspect, delete and restore checkpoints',
  usage: 'checkpoint create|list|info|delete|restore',
  subcommands: [create, list, info, remove, { ...restore, usage: 'checkpoint restore ID' }],
  examples: ['sprite checkpoint create --comment "clean"', 'sprite checkpoint ls', 'sprite restore v0'],
};

export const checkpointCommands: Command[] = [checkpoint, restore];
