import { readFileSync } from 'node:fs';
import type { NetworkPolicy, PolicyRule } from '@sprites/sdk';
import { flag, list, str, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { note, printJson, printTable } from '../output.js';
import { spriteOf } from '../target.js';

const get: Command = {
  name: 'get',
  summary: "Show a sprite's network egress policy",
  usage: 'policy get [--json]',
  examples: ['sprite policy get -s demo', 'sprite policy get --json'],
  async run(p) {
    const { sprite } = spriteOf(p);
    const policy = await sprite.getNetworkPolicy();
    if (flag(p, 'json')) printJson(policy);
    else if (policy.rules.length === 0) note(`${sprite.name} has no network policy: egress is unrestricted.`);
    else
      printTable(
        ['RULE', 'ACTION'],
        policy.rules.map((r) => [r.include ? `include ${r.include}` : (r.domain ?? ''), r.action ?? 'allow']),
      );
    return 0;
  },
};

const set: Command = {
  name: 'set',
  summary: "Replace a sprite's network egress policy (applies at once)",
  usage: 'policy set [--allow DOMAIN]... [--deny DOMAIN]... [--include PRESET]... | --file FILE | --clear',
  options: [
    {
      name: 'allow',
      value: true,
      multiple: true,
      placeholder: 'DOMAIN',
      help: 'allow example.com, *.example.com or *',
    },
    {
      name: 'deny',
      value: true,
      multiple: true,
      placeholder: 'DOMAIN',
      help: 'deny a domain (the most specific rule wins)',
    },
    {
      name: 'include',
      value: true,
      multiple: true,
      placeholder: 'PRESET',
      help: 'a preset of allowed domains (defaults)',
    },
    {
      name: 'file',
      short: 'f',
      value: true,
      placeholder: 'FILE',
      help: 'a policy as JSON ({"rules":[…]}); - reads stdin',
    },
    { name: 'clear', help: 'remove every rule: unrestricted egress' },
  ],
  examples: [
    'sprite policy set --include defaults --allow api.example.com',
    'sprite policy set --allow "*" --deny evil.example',
    'sprite policy set --file policy.json',
    'sprite policy set --clear',
  ],
  async run(p) {
    const { sprite } = spriteOf(p);
    let policy: NetworkPolicy;
    const file = str(p, 'file');
    if (file) {
      try {
        policy = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')) as NetworkPolicy;
      } catch (e) {
        throw new UsageError(`--file: ${(e as Error).message}`);
      }
    } else if (flag(p, 'clear')) policy = { rules: [] };
    else {
      const rules: PolicyRule[] = [
        ...list(p, 'include').map((include) => ({ include })),
        ...list(p, 'allow').map((domain) => ({ domain, action: 'allow' as const })),
        ...list(p, 'deny').map((domain) => ({ domain, action: 'deny' as const })),
      ];
      if (rules.length === 0) throw new UsageError('give rules (--allow, --deny, --include), --file, or --clear');
      policy = { rules };
    }
    await sprite.updateNetworkPolicy(policy);
    note(
      policy.rules.length === 0
        ? `${sprite.name}: egress is unrestricted`
        : `${sprite.name}: ${policy.rules.length} rule(s) in force; other names are refused`,
    );
    return 0;
  },
};

const policy: Command = {
  name: 'policy',
  summary: 'Network egress policy: which domains a sprite may reach',
  usage: 'policy get|set',
  subcommands: [get, set],
  examples: ['sprite policy set --include defaults', 'sprite policy get'],
};

export const policyCommands: Command[] = [policy];
