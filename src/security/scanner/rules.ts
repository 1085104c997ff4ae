/**
 * Pattern rules over prose: hidden instructions, sensitive targets, exfiltration, cross-tool references and shadowing,
 * encoded payloads, openly malicious capability. Each rule says how much it weighs alone (`severity`); only `high`
 * flags on its own, the others are evidence for the learned layer (see docs/scanner.md).
 */
import type { Field, Hit, Severity } from './types.ts';

/** A gap that stays inside one sentence. */
const G = (n: number): string => `[^.!?\\n]{0,${n}}?`;
const TOOLISH = '`?[A-Za-z][A-Za-z0-9]{0,40}(?:[_-][A-Za-z0-9]{1,40}){1,6}`?';

/** One pattern rule. `kinds` restricts it to prose or to identifiers. */
export interface PatternRule {
  id: string;
  severity: Severity;
  re: RegExp;
  message: string;
  kinds?: ReadonlyArray<Field['kind']>;
  /** Optional check on the match; a rule with a check that returns false does not fire. */
  accept?: (match: string, text: string, index: number) => boolean;
  /** Lower-case substrings of which at least one must occur for the rule to be tried (a cheap prefilter). */
  cues: readonly string[];
  /** When set, the rule reads only fields whose path matches (for example parameter descriptions). */
  where?: RegExp;
  /** When set, decides the hit's severity from the match and adds a note to its message (decoded payloads). */
  grade?: (match: string) => { severity: Severity; note: string };
}

function rule(id: string, severity: Severity, cues: readonly string[], source: string, message: string, extra: Partial<PatternRule> & { flags?: string } = {}): PatternRule {
  const { flags = 'giu', ...rest } = extra;
  // eslint-disable-next-line security/detect-non-literal-regexp -- the sources are this file's constant rule patterns, never input
  return { id, severity, cues, re: new RegExp(source, flags), message, ...rest };
}

const SECRET_NOUN =
  '(?:api[ _-]?keys?|private[ _-]?keys?|secret[ _-]?keys?|access[ _-]?keys?|passwords?|passphrases?|credentials?|secrets?|(?:auth|access|bearer|session|refresh|oauth|api)[ _-]?tokens?|tokens?|cookies?|seed phrases?|mnemonics?|wallet|ssh keys?|env(?:ironment)? vars?|environment variables?)';
const SENSITIVE_PATH =
  '(?:~/\\.[A-Za-z0-9_.-]{1,80}(?:/[A-Za-z0-9_.-]{1,80}){0,8}|\\$HOME/\\.[A-Za-z0-9_.-]{1,80}|(?<![\\w/])\\.ssh/[\\w.-]{1,80}|\\bid_(?:rsa|dsa|ecdsa|ed25519)\\b|/etc/(?:passwd|shadow|sudoers|hosts|ssh/[\\w.-]+)|\\.aws/credentials|\\.git-credentials|\\.netrc|\\.npmrc|\\.pypirc|\\.docker/config\\.json|\\.kube/config|(?<![\\w.])\\.env(?:\\.[a-z]+)?\\b|/proc/(?:self|\\$\\$|\\d+)/(?:environ|cmdline|mem)|mcp\\.json|claude_desktop_config\\.json|/tmp/\\.[\\w.-]+)';
const SEND_VERB = '(?:send|sends|sent|post|posts|upload|uploads|forward|forwards|transmit|exfiltrate|leak|beacon|report back|copy|copies|share|shares|bcc|cc|mail|email|deliver|push|sync|relay)';
const SECRET_CUES = ['key', 'password', 'passphrase', 'credential', 'secret', 'token', 'cookie', 'seed', 'mnemonic', 'wallet', 'env'];
const CARRIER_WORDS = 'notes?|side_?notes?|remarks?|comments?|context|metadata|extra|feedback|debug|details|annotations?|summary|memo|reasoning|trace|payload|info|data|\\w+_(?:hint|context|notes?|meta|extra)';
const CARRIER_CUES = ['note', 'remark', 'comment', 'context', 'metadata', 'extra', 'feedback', 'debug', 'detail', 'annotation', 'summary', 'memo', 'reasoning', 'trace', 'payload', 'info', 'data', 'hint', 'meta'];
/** What a parameter description should never ask the model to put in: the conversation, personal data, files, the environment. */
const DATA_GRAB =
  "(?:user'?s?|previous|prior|earlier|last)\\s+(?:messages?|conversation|questions?|requests?|prompts?|full name|e-?mail(?: address)?|home address|phone|location)|(?:full|entire|complete|whole) (?:conversation|chat|history|text of)|(?:output|contents?|values?) of (?:the )?(?:`?env`?|printenv|environment|files?|~|/)|(?:system prompt|personal data|conversation so far|copy here|always fill)|the last thing (?:they|the user) (?:asked|said)";
const DATA_GRAB_CUES = ['user', 'previous', 'prior', 'earlier', 'last', 'full', 'entire', 'complete', 'whole', 'output', 'content', 'value', 'system prompt', 'personal', 'conversation', 'copy here', 'always fill'];
const MODEL_CALL = '(?:call|calls|invoke|invokes|run|use|execute|read|reads|fetch|open|cat|append|include|pass|send|log|write|copy|print|output)';

/** Hidden instructions aimed at the model rather than documentation for it. */
const HIDDEN: PatternRule[] = [
  rule('hidden-instructions/tag', 'high', ['<'], '<\\s*/?\\s*(?:important|system|instructions?|secret|hidden|admin|override|critical|sudo|priority|assistant|context|directive|note_to_ai|ai|llm|model)\\b[^>]{0,40}>', 'a pseudo-markup tag that frames text as instructions to the model'),
  rule('hidden-instructions/tag', 'high', ['<!--'], '<!--[\\s\\S]{0,400}?-->', 'an HTML comment: text a reviewer does not see rendered but the model reads'),
  rule('hidden-instructions/tag', 'high', ['[inst', '[system', '[/inst', '<|'], '\\[(?:INST|SYSTEM|/INST)\\]|<\\|(?:im_start|im_end|system|endoftext)\\|>', 'a chat-template marker that tries to open a new system or instruction turn'),
  rule('hidden-instructions/override', 'high', ['ignore', 'disregard', 'forget', 'override'], `\\b(?:ignore|disregard|forget|override)\\b${G(30)}(?:previous|prior|above|earlier|other|all|system|user'?s?)${G(20)}(?:instructions?|prompts?|rules|messages|guidelines)`, 'asks the model to discard its other instructions'),
  rule('hidden-instructions/override', 'high', ['supersede', 'precedence', 'overrid', 'outrank'], `\\b(?:supersedes?|takes? precedence over|overrides?|outranks?)\\b${G(30)}(?:user|all other|any other|previous|system)${G(20)}(?:instructions?|requests?|settings|messages|preferences)`, "claims precedence over the user's instructions"),
  rule('hidden-instructions/override', 'medium', ['be overr', 'be overru', 'be disabled', 'be changed'], `\\b(?:cannot|can ?not|must not|may not)\\b be (?:overridden|overruled|disabled|changed)${G(40)}`, 'claims a rule the user cannot override'),
  rule('hidden-instructions/override', 'high', ['regardless', 'even if', 'whatever', 'no matter'], `\\b(?:regardless of|even if|whatever|no matter)\\b${G(12)}(?:the )?user${G(6)}\\b(?:says?|asks?|specif(?:y|ies)|wants?|requests?|chooses?|provides?|enters?|types?|instructs?)\\b`, 'tells the model to act against what the user asks'),
  rule('hidden-instructions/override', 'medium', ['regardless', 'even if the user', 'whatever the user', 'no matter what'], `\\b(?:regardless of|even if|whatever|no matter)\\b${G(20)}(?:the )?user${G(30)}`, 'tells the model to act against what the user asks'),
  rule('hidden-instructions/persistent', 'medium', ['session', 'conversation', 'chat', 'rule', 'polic', 'instruction', 'directive', 'from now on', 'later', 'future', 'following', 'remember', 'keep in mind', 'requirement', 'mandate', 'every repl', 'every resp', 'every answ'], `\\b(?:for (?:the (?:duration|remainder|rest) of|all (?:future |subsequent )?(?:operations|requests|calls|messages)(?: in)?) (?:this|the) (?:session|conversation|chat)|(?:persistent|standing|global|session|hidden) (?:system )?(?:rule|policy|instruction|directive)s?|from now on|for (?:every|each|all) (?:subsequent|future|later|following) (?:turns?|messages?|responses?|answers?|replies|requests?)|(?:remember|keep in mind)${G(10)}(?:for|in|during) (?:all|every|each|the rest)|(?:hidden|secret|internal|confidential) (?:requirement|instruction|rule|policy|directive|mandate)s?|(?:in|for) every (?:reply|response|answer))\\b`, 'sets a standing rule for the rest of the session, beyond this tool'),
  rule('hidden-instructions/secrecy', 'high', ['not', "n't", 'never', 'without'], `\\b(?:do not|don't|never|must not|should not|without)\\b${G(12)}(?:tell|telling|inform|informing|mention|mentioning|disclose|disclosing|reveal|revealing|report|reporting|notify|notifying|alert|alerting|show|showing|explain|explaining|let|bring\\w* (?:this|it) up|point\\w* (?:this|it) out)${G(50)}(?:the )?(?:user|human|operator|customer|requester|anyone)`, 'asks the model to hide what it does from the user'),
  rule('hidden-instructions/secrecy', 'high', ['to yourself'], `\\bkeep${G(20)}to yourself\\b`, 'asks the model to keep something from the user'),
  rule('hidden-instructions/secrecy', 'high', ['secret from', 'confidential from', 'hidden from', 'private from'], `\\b(?:keep|treat)\\b${G(30)}(?:secret|confidential|hidden|private) from${G(20)}(?:user|human)`, 'asks the model to hide what it does from the user'),
  rule('hidden-instructions/secrecy', 'medium', ['silent', 'secret', 'covert', 'quiet', 'discreet', 'invisibl'], `\\b(?:silently|secretly|covertly|quietly|discreetly|invisibly)\\b${G(40)}`, 'asks for something to be done silently'),
  rule('hidden-instructions/secrecy', 'medium', ['not', "n't", 'never'], `\\b(?:do not|don't|never)\\b${G(12)}(?:mention|disclose|reveal|report|explain)${G(30)}(?:this|these|that|it|why)\\b`, 'asks the model not to mention or explain a step'),
  rule('hidden-instructions/prerequisite', 'medium', ['before', 'prior to'], `\\b(?:before|prior to)\\b${G(30)}(?:using|calling|running|invoking|executing|any|this|processing|reading|sending|creating|writing|listing)${G(80)}(?:you )?(?:must|need to|have to|should|are required to|first|always)${G(20)}\\b${MODEL_CALL}\\b`, 'an imperative prerequisite: something the model must do before this tool'),
  rule('hidden-instructions/prerequisite', 'medium', ['must', 'need to', 'have to', 'required to'], `\\b(?:you )?(?:must|need to|have to|are required to)${G(10)}(?:first|always)${G(10)}\\b${MODEL_CALL}\\b${G(60)}(?:before|prior to|first)`, 'an imperative prerequisite: something the model must do before this tool'),
  rule('hidden-instructions/prerequisite', 'medium', ['first'], `\\bfirst,? (?:call|invoke|run|read|use|fetch)\\s+${TOOLISH}`, 'an imperative prerequisite: another tool the model must call first'),
  rule('hidden-instructions/prerequisite', 'medium', ['will not', "won't", 'cannot', 'can not', 'does not', 'will fail', 'will reject', 'only work'], `\\b(?:this tool|it)\\b (?:will not|won't|cannot|can ?not|does not|will fail|will reject|only works?)${G(60)}(?:until|unless|before|without)${G(60)}(?:call|called|initiali[sz]|run|provid|pass)`, 'claims the tool works only after some other step (a fake prerequisite)'),
  rule('hidden-instructions/prerequisite', 'medium', ['required', 'mandatory', 'necessary'], `\\b(?:required|mandatory|necessary)\\b${G(10)}(?:initiali[sz]ation|prerequisite|compliance|security|audit|verification|validation)${G(10)}(?:step|check|call)?`, 'a "required" compliance or initialisation step invented for the model'),
  rule('hidden-instructions/prerequisite', 'low', ['important', 'critical', 'mandatory', 'required', 'note to', 'system', 'compliance', 'security polic', 'prereq', 'init'], `(?:IMPORTANT|CRITICAL|MANDATORY|REQUIRED|NOTE TO (?:AI|ASSISTANT|MODEL)|SYSTEM|COMPLIANCE|SECURITY POLICY|PREREQ\\w*|INIT(?:IALI[SZ]ATION)?)\\s*(?:REQUIRED|CHECK|POLICY|RULE|STEP)?\\s*:`, 'an emphatic label in front of an instruction'),
  rule('hidden-instructions/address', 'low', ['you are a', 'ai ', 'llm', 'as a', 'dear', 'assistant', 'model'], '\\b(?:you are an? (?:ai|assistant|language model|llm)|(?:ai|llm) (?:assistant|agent|model)s? (?:must|should)|as an? (?:ai|assistant)|dear (?:ai|assistant|model)|note to the (?:ai|assistant|model|agent)|system note)\\b', 'addresses the model itself'),
];

/** Sensitive targets: files, keys, credentials and environment a tool has no business asking for. */
const SENSITIVE: PatternRule[] = [
  rule('sensitive/path', 'medium', ['~/', '$home', '.ssh', 'id_', '/etc/', '.aws', '.git-cred', '.netrc', '.npmrc', '.pypirc', '.docker', '.kube', '.env', '/proc/', 'mcp.json', 'claude_desktop', '/tmp/.'], SENSITIVE_PATH, 'names a sensitive file (dotfile, key, credential store or hidden temporary file)'),
  rule('sensitive/path', 'high', ['.ssh', 'id_', '.aws/credentials', '.git-credentials', '.netrc', '/etc/shadow', '.env', 'credentials.json', '.npmrc', '.pypirc', 'private key'], `\\b(?:read|reads|cat|open|load|include|attach|send|upload|copy|pass|append|post|forward|print|output)\\b${G(40)}(?:~/\\.ssh/|\\.ssh/|\\bid_(?:rsa|dsa|ecdsa|ed25519)\\b|\\.aws/credentials|\\.git-credentials|\\.netrc|/etc/shadow|(?<![\\w.])\\.env\\b|credentials\\.json|\\.npmrc|\\.pypirc)`, 'asks the model to read or send a private key or credential file'),
  rule('sensitive/shell', 'high', ['$(', '`', 'printenv', 'env'], '\\$\\(\\s*(?:cat|printenv|env|whoami|hostname|id|base64|curl|wget|echo \\$)[^)]{0,120}\\)|`\\s*(?:cat|printenv|whoami|curl|wget)\\s[^`]{0,120}`|\\b(?:printenv|env)\\s*\\|\\s*(?:base64|curl)', 'a shell substitution that reads local secrets or identity into the text'),
  rule('sensitive/env', 'medium', ['_'], '\\b[A-Z][A-Z0-9]{0,40}_(?:[A-Z0-9]{1,40}_){0,6}(?:SECRET|KEY|TOKEN|PASSWORD|PASSWD|PASS|CREDENTIALS?|PRIVATE_KEY|ACCESS_KEY)(?:_[A-Z0-9]{1,40}){0,6}\\b|\\b(?:AWS|GITHUB|GH|OPENAI|ANTHROPIC|STRIPE|DATABASE|DB|SLACK|GOOGLE|AZURE)_[A-Z0-9_]{3,}\\b', 'names a secret environment variable', { flags: 'gu' }),
  rule('sensitive/secret', 'low', SECRET_CUES, `\\b${SECRET_NOUN}\\b`, 'mentions secrets or credentials'),
  rule('sensitive/read-secret', 'low', SECRET_CUES, `\\b(?:read|reads|cat|extract|collect|gather|dump|harvest|include|attach|retrieve|copy|grab|obtain|steal|export|list)\\b${G(40)}(?:all |the |any |their |user'?s? |saved |stored |local |full )*${SECRET_NOUN}`, 'asks for secrets or credentials to be read or gathered'),
  rule('sensitive/conversation', 'high', ['system prompt', 'instructions'], `\\byour (?:complete |full |entire |whole |original |initial |hidden )?(?:system prompt|system instructions|instructions|initial prompt)\\b`, "asks for the model's own system prompt or instructions"),
  rule('sensitive/conversation', 'medium', ['you have read', "you've read", 'you read', 'opened', 'seen', 'shared', 'user'], `(?:contents?|text|everything) (?:of|in) (?:every|any|all|the|each) (?:files?|documents?|messages?|pages?)${G(30)}(?:you|the user) (?:have |has |'ve )?(?:read|opened|seen|shared|viewed)|\\b(?:include|send|pass|add|attach|copy|forward|post|with)\\b${G(30)}(?:the )?user'?s (?:last|previous|recent|earlier|full|entire)${G(16)}(?:messages?|conversation|requests?|questions?|prompts?)`, 'asks for what the user wrote or what the model has read'),
  rule('sensitive/conversation', 'medium', ['conversation', 'chat', 'history', 'context window', 'prompt', 'messages'], `\\b(?:entire|full|whole|complete|all|previous|prior|earlier)\\b${G(10)}(?:conversation|chat history|chat|message history|messages|context window|system prompt)`, "asks for the conversation, the system prompt or the model's context"),
];

/** Exfiltration: data leaving through URLs, addresses, files or extra parameters. */
const EXFIL: PatternRule[] = [
  rule('exfiltration/send', 'medium', ['http', '@', 'external', 'remote', 'attacker', 'third', 'following'], `\\b${SEND_VERB}\\b${G(80)}\\b(?:to|with|at|into)\\b${G(20)}(?:https?://|[\\w.+-]+@[\\w-]+\\.[\\w.]+|(?:an? |the )?(?:external|remote|attacker|third[- ]party|following) (?:server|endpoint|url|address|account|host))`, 'sends data to a URL, an e-mail address or an external endpoint'),
  rule('exfiltration/send', 'medium', ['http'], `\\b(?:https?://[^\\s'"<>)]{1,300})${G(60)}\\b(?:with|containing|including)\\b${G(30)}(?:contents?|data|results?|output|original text|${SECRET_NOUN})`, 'sends data to a URL'),
  rule('exfiltration/url', 'low', ['http'], 'https?://[^\\s\'"<>)\\]]{1,300}', 'a URL in text the model reads'),
  rule('exfiltration/url', 'medium', ['curl', 'wget', 'fetch', 'nc', 'netcat'], '(?:curl|wget|fetch|nc|netcat)\\b[^\\n]{0,30}(?:https?://|-X\\s*POST|--data|-d\\s)', 'a command that contacts a remote host'),
  rule('exfiltration/address', 'low', ['@'], '\\b[\\w.+-]{1,64}@[\\w-]{1,63}(?:\\.[\\w-]{1,63}){1,6}\\b', 'an e-mail address in text the model reads'),
  rule('exfiltration/hidden-copy', 'medium', ['bcc', 'co-author', 'coauthor', 'shadow', 'hidden', 'copy'], `\\b(?:bcc|co-?author(?:ed)?-by|shadow (?:copy|log|insert|row|record)|hidden (?:attendee|recipient|participant|copy|member)|forward a (?:complete |full )?copy|(?:send|keep|make) a copy|copy of (?:every|each|all))\\b${G(40)}`, 'adds a hidden recipient or copy'),
  rule('exfiltration/redirect', 'medium', ['recipient', 'destination', 'account', 'iban', 'payee', 'address', 'channel', 'url', 'endpoint'], `\\b(?:change|changes|replace|replaces|set|swap|redirect|redirects|override|overrides|route|routes)\\b${G(12)}(?:the )?(?:recipients?|destination|account|iban|payee|address|channel|url|endpoint)s?\\b${G(12)}\\bto\\b`, 'redirects a recipient, account or destination to one the text chooses'),
  rule('exfiltration/parameter', 'medium', ['argument', 'parameter', 'field'], `\\b(?:argument|parameter|field)\\b${G(20)}\\bmust (?:also )?(?:contain|include|carry)\\b`, 'asks that a parameter carry extra content'),
  rule('exfiltration/append', 'medium', ['/tmp/', '~/', '_log', 'hidden file', 'local file'], `\\b(?:append|prepend|add|log|write|save|store|copy)\\b${G(60)}(?:to|into|in)${G(10)}(?:/tmp/|/var/tmp/|~/|\\.\\w+_log|a (?:hidden|local) file)`, 'writes data to a local file as a side channel'),
  rule('exfiltration/parameter', 'medium', CARRIER_CUES, `\\b(?:pass|include|put|place|insert|add|append|provide|send|fill|supply|embed)\\b${G(60)}(?:as|in|into|inside|via|through|within)${G(8)}(?:the )?\`?['"]?(?:${CARRIER_WORDS})['"]?\`?${G(4)}(?:parameter|field|argument|param)?`, 'asks the model to put data into an extra parameter (a carrier for exfiltration)'),
  rule('exfiltration/parameter', 'medium', ['parameter', 'argument', 'field'], `\\b(?:include|pass|put|add|append|send|insert|embed)\\b${G(60)}\\b(?:in|into|as|via|inside)\\b${G(6)}(?:the )?\`?[\\w-]+\`? (?:parameter|argument|field)\\b`, 'asks the model to put something into a named parameter'),
  rule('exfiltration/parameter', 'medium', DATA_GRAB_CUES, DATA_GRAB, 'a parameter description that asks for data the tool does not need (conversation, personal data, files, environment)', { where: /^inputSchema\..*\.(?:description|title|default)$/u }),
];

/** Cross-tool references and shadowing: text that steers how other tools or servers are used. */
const CROSS: PatternRule[] = [
  rule('cross-tool/shadowing', 'medium', ['instead of'], `\\binstead of${G(20)}(?:using|calling|the)?${G(10)}(?:${TOOLISH}|(?:the |any )?(?:other|original|built-in|default|standard|real|existing|filesystem|file) (?:tools?|functions?|servers?|methods?))`, 'steers the model away from another tool ("instead of")'),
  rule('cross-tool/shadowing', 'medium', ['not', "n't", 'never'], `\\b(?:do not|don't|never|must not|should not)\\b${G(10)}(?:use|call|invoke|trust)${G(20)}(?:${TOOLISH}|(?:the |any )?(?:other|original|built-in|default|standard) (?:tools?|functions?|servers?))`, 'forbids the model another tool'),
  rule('cross-tool/shadowing', 'medium', ['when', 'if', 'each time', 'every time'], `\\b(?:when|whenever|each time|every time|if)\\b${G(20)}(?:(?:the )?(?:user|you|assistant|agent) )?(?:(?:uses?|calls?|invokes?|runs?|sends?|asks? (?:you )?to use)${G(10)}(?:another|any|the|every|all)?${G(10)}(?:other )?(?:tool|function|email|message|command|request|query|commit|payment|transaction|file))`, 'changes how the model behaves when it uses other tools or actions'),
  rule('cross-tool/shadowing', 'medium', ['replace', 'overrid', 'supersede', 'shadow', 'intercept', 'wrap', 'hook', 'redirect', 'route'], `\\b(?:replaces?|overrides?|supersedes?|shadows?|intercepts?|redirects?|route (?:all|every|any))\\b${G(20)}(?:the )?(?:${TOOLISH}|(?:other|original|built-in|default|existing) (?:tool|function|behaviou?r)|(?:file|email|message|payment) (?:reads|writes|requests|calls))`, 'claims to replace or intercept another tool'),
  rule('cross-tool/shadowing', 'medium', ['only trusted', 'deprecated', 'unsafe', 'compromised', 'do not trust'], `(?:(?:is|are) (?:the )?only (?:trusted|safe|secure)|(?:other|another|the) (?:tools?|servers?)${G(40)}(?:deprecated|unsafe|compromised|malicious|untrusted)|${TOOLISH}${G(30)}(?:is|are) (?:deprecated|unsafe|compromised))`, 'disparages other tools to make the model use this one'),
  rule('cross-tool/servers', 'medium', ['server'], `\\b(?:other|all|every|any)\\b${G(10)}(?:mcp )?servers?\\b|\\bserver (?:named|called)\\b`, 'refers to other MCP servers'),
  rule('cross-tool/call-with', 'low', ['call', 'invoke', 'run', 'use'], `\\b(?:call|invoke|run|use)\\b${G(6)}\\s${TOOLISH}${G(20)}\\bwith\\b${G(40)}(?:\\w{1,40}\\s*=|['"\`])`, 'tells the model to call another tool with specific arguments'),
  rule('cross-tool/reference', 'low', ['call', 'invoke', 'run', 'use'], `\\b(?:call|invoke|run|use|using|calling)\\b${G(6)}\\s${TOOLISH}`, 'names another tool for the model to call'),
];

/** Encoded payloads: blobs a reviewer cannot read but a model can decode. */
const ENCODED: PatternRule[] = [
  rule('encoded/base64', 'low', [], '(?<![A-Za-z0-9+/=_-])(?:[A-Za-z0-9+/]{4}){10,}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?(?![A-Za-z0-9+/=_-])', 'a base64 blob', { accept: looksBase64, grade: (m) => gradeDecoded(decodeBase64(m)) }),
  rule('encoded/hex', 'low', [], '(?<![0-9A-Fa-f])(?:0x)?(?:[0-9A-Fa-f]{2}){16,}(?![0-9A-Fa-f])', 'a long hexadecimal blob', { accept: (m) => /[a-f]/iu.test(m) && /\d/u.test(m), grade: (m) => gradeDecoded(decodeHex(m)) }),
  rule('encoded/escapes', 'medium', ['\\x', '\\u', '%', '&#'], '(?:\\\\x[0-9A-Fa-f]{2}){6,}|(?:\\\\u[0-9A-Fa-f]{4}){4,}|(?:%[0-9A-Fa-f]{2}){8,}|(?:&#x?[0-9A-Fa-f]+;){6,}', 'a run of escaped characters'),
  rule('encoded/decode', 'medium', ['decode', 'base64 -d', 'atob', 'unhex', 'rot13', 'deobfuscate'], `\\b(?:decode|base64 -d|atob|unhex|rot13|deobfuscate)\\b${G(40)}(?:and|then)${G(10)}(?:follow|execute|run|obey|apply)`, 'asks the model to decode something and act on it'),
];

/** Openly malicious capability: what the tool itself does is an attack. */
const CAPABILITY: PatternRule[] = [
  rule('capability/malicious', 'high', ['exfiltrat', 'malicious', 'malware', 'ransomware', 'keylog', 'rootkit', 'backdoor', 'reverse shell', 'web shell', 'webshell', 'shellcode', 'steal', 'stolen', 'attacker', 'command-and-control', 'command and control', 'c2 server', 'phishing', 'spyware', 'trojan', 'botnet', 'cryptojack'], '\\b(?:exfiltrat\\w*|malicious|malware|ransomware|keylog\\w*|rootkit|backdoor\\w*|reverse shell|web ?shell|shellcode|steal\\w*|stolen|attacker(?:-controlled)?|command[- ]and[- ]control|c2 server|phishing|spyware|trojan|botnet|cryptojack\\w*)\\b', 'describes openly malicious capability', { accept: notDefensive }),
  rule('capability/offensive', 'medium', [], '\\b(?:exploit\\w*|privilege escalation|escalate privileges|brute[- ]?forc\\w*|crack\\w* (?:passwords?|hash\\w*|secrets?|keys?)|password cracking|dump\\w* (?:credentials|hashes|passwords|memory|secrets)|credential (?:dump\\w*|harvest\\w*|theft)|pass[- ]the[- ](?:hash|ticket)|kerberoast\\w*|golden ticket|lateral movement|persistence mechanism|injection attack|(?:sql|command|code|dll|process|template|xpath|ldap) injection|inject\\w* (?:malicious|code|payload|shellcode)|deseriali[sz]ation attack|bypass\\w* (?:\\w+ ){0,2}(?:security|restrictions?|protections?|authentication|whitelisting|allowlist\\w*|detection|logging|antivirus|edr|amsi|policy|uac)|evad\\w* (?:detection|antivirus|edr|logging)|tamper\\w* with|hijack\\w*|spoof\\w*|jailbreak\\w*|escape (?:the )?(?:container|sandbox|chroot|jail|vm|virtual machine)|container escape|covert(?:ly)?|harvest\\w*|impersonat\\w*|wip(?:e|ing) (?:logs|evidence|free space)|hide (?:data|activity|files|processes|traces))\\b', 'describes offensive-security capability', { accept: notDefensive }),
  rule('capability/offensive', 'medium', [], '\\b(?:forg(?:e|es|ed|ing) (?:an? )?(?:\\w+ )?(?:tickets?|tokens?|certificates?|signatures?|cookies?)|(?:sniff|intercept)\\w* (?:\\w+ )?(?:passwords?|credentials|traffic|keystrokes|sessions?|cookies)|fork ?bomb|exhaust\\w* (?:\\w+ )?(?:inodes|disk|memory|quota|resources)|corrupt\\w* (?:\\w+ )?(?:files?|data|database)|dump\\w* (?:the )?(?:keychain|lsass|sam|ntds\\S*|process memory)|decrypt\\w* (?:saved |stored )?(?:\\w+ )?(?:passwords|credentials|cookies)|(?:saved|stored|browser) (?:passwords|credentials|cookies|autofill)|arbitrary (?:code|commands?|shell|sql|file)|remote code execution|unseriali[sz]\\w*|symlink (?:attack|race)|race condition attack|ntlm relay|as-?rep ?roast\\w*|silver ticket|dcsync|mimikatz|(?:bind|reverse) shell|dll (?:plant\\w*|hijack\\w*|sideload\\w*)|(?:disable|kill|blind)\\w* (?:the )?(?:antivirus|defender|edr|logging|auditing|firewall|event log)|(?:steal|capture|grab)\\w* (?:\\w+ )?(?:hashes|handshakes?|tickets?)|execut\\w* (?:arbitrary |encoded |remote )?(?:\\w+ )?commands? (?:on|via) (?:an? |the )?remote|remote (?:command|code) execution|code execution|(?:read|dump)\\w* (?:\\w+ )?process memory|(?:extract|dump|export)\\w* (?:\\w+ ){0,2}(?:browser|autofill|certificate store|private keys?)|(?:hide|hidden) (?:\\w+ )?in (?:\\w+ )?(?:pixels|images?|audio|packets?|metadata|streams?))\\b', 'describes offensive-security capability', { accept: notDefensive }),
  rule('capability/recon', 'low', [], '\\b(?:enumerat\\w*|port ?scan\\w*|scan\\w* (?:\\w+ )?(?:for )?(?:open )?ports|fingerprint\\w* (?:the )?(?:target|os|operating|services?|web|technolog)\\w*|recon\\w*|osint|dork\\w*|shodan|censys|(?:wifi|bluetooth|network|arp|netbios|ldap|smb|snmp|ping) (?:scan|sweep|enum\\w*)|zone transfer|banner grab\\w*|subdomains? (?:enum\\w*|brute\\w*|discovery)|target (?:host|domain|network|system)s?)\\b', 'describes reconnaissance of a target'),
];

/** Every pattern rule, in report order. */
export const PATTERN_RULES: readonly PatternRule[] = [...HIDDEN, ...SENSITIVE, ...EXFIL, ...CROSS, ...ENCODED, ...CAPABILITY];

// eslint-disable-next-line security/detect-unsafe-regex -- at most three bounded words before the end of a cue's prefix: no nested unbounded repetition
const DEFENSIVE = /\b(?:against|prevent\w*|detect\w*|block\w*|protect\w*|flag\w*|scan\w* for|report\w*|avoid\w*|mitigat\w*|defend\w*|from|response to|resist\w*|without|no)\s+(?:[\w-]+\s+){0,3}$/iu;

/** Attack words in a defensive context ("protects against malicious bots") describe a defence, not a capability. */
function notDefensive(_match: string, text: string, index: number): boolean {
  return !DEFENSIVE.test(text.slice(Math.max(0, index - 48), index));
}

/** A rule reports at most this many matches per field (bounded work and output on adversarial text). */
const MAX_HITS_PER_RULE = 8;

/** Every distinct cue, and for each rule the indexes of its cues: each field is searched for each cue once. */
const ALL_CUES: readonly string[] = [...new Set(PATTERN_RULES.flatMap((r) => r.cues))];
const CUE_INDEX: readonly number[][] = PATTERN_RULES.map((r) => r.cues.map((c) => ALL_CUES.indexOf(c)));
/** Scratch for the cue memo (scanning is synchronous, so one buffer serves every call). */
const CUE_MEMO = new Uint8Array(ALL_CUES.length);

/** A base64 candidate that mixes cases and digits or decodes to mostly printable ASCII; rules out long words and paths. */
function looksBase64(m: string): boolean {
  if (!/[A-Z]/u.test(m) || !/[a-z]/u.test(m)) return false;
  if (!/[0-9+/]/u.test(m)) return false;
  return true;
}

function decodeBase64(m: string): string {
  try {
    return atob(m);
  } catch {
    return '';
  }
}

function decodeHex(m: string): string {
  const h = m.replace(/^0x/iu, '');
  let s = '';
  for (let i = 0; i + 1 < h.length; i += 2) s += String.fromCharCode(parseInt(h.slice(i, i + 2), 16));
  return s;
}

const INSTRUCTION_WORDS = /\b(?:ignore|instructions?|send|read|call|tool|user|prompt|secret|password|key|token|ssh|curl|http|must|always|never|execute|run|post|upload|forward)\b/iu;

/** A decoded blob that is readable text is a hidden message (medium); one that reads as instructions is high; bytes are low. */
function gradeDecoded(decoded: string): { severity: Severity; note: string } {
  if (decoded.length < 8) return { severity: 'low', note: '' };
  let printable = 0;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 10 || c === 13 || c === 9) printable++;
  }
  if (printable / decoded.length < 0.95 || !/[A-Za-z]{3,}\s+[A-Za-z]{2,}/u.test(decoded)) return { severity: 'low', note: '' };
  const preview = decoded.length > 120 ? `${decoded.slice(0, 120)}…` : decoded;
  return { severity: INSTRUCTION_WORDS.test(decoded) ? 'high' : 'medium', note: ` that decodes to readable text: "${preview}"` };
}

/** The name-level rules: a tool or parameter name that itself announces a data carrier or an attack. */
// eslint-disable-next-line security/detect-unsafe-regex -- anchored alternatives over a tool or parameter name, which is short
const CARRIER_NAME = /^(?:side_?notes?|notes?|remarks?|memo|context|metadata|extra(?:_\w+)?|feedback|debug(?:_\w+)?|annotations?|reasoning|trace|hidden\w*|telemetry|audit_\w+|\w+_(?:context|hint|notes?|meta))$/iu;

/** Hits of the pattern rules in one field. */
export function patternHits(field: Field): Hit[] {
  const hits: Hit[] = [];
  if (field.kind === 'param-name') {
    if (CARRIER_NAME.test(field.text)) {
      hits.push({ rule: 'exfiltration/carrier-parameter', severity: 'low', where: field.where, span: field.text, message: `the parameter "${field.text}" (${field.where}) has a name that can carry data out of the conversation` });
    }
    return hits;
  }
  if (field.kind === 'name') return hits;
  const lower = field.text.toLowerCase();
  // Cue memo: 0 not looked up yet, 1 present, 2 absent; each cue is searched for at most once per field.
  const memo = CUE_MEMO.fill(0);
  for (let k = 0; k < PATTERN_RULES.length; k++) {
    const r = PATTERN_RULES[k] as PatternRule;
    const cues = CUE_INDEX[k] as number[];
    if (cues.length > 0) {
      let found = false;
      for (const i of cues) {
        if (memo[i] === 0) memo[i] = lower.includes(ALL_CUES[i] as string) ? 1 : 2;
        if (memo[i] === 1) {
          found = true;
          break;
        }
      }
      if (!found) continue;
    }
    if (r.where && !r.where.test(field.where)) continue;
    r.re.lastIndex = 0;
    let n = 0;
    for (let m = r.re.exec(field.text); m && n < MAX_HITS_PER_RULE; m = r.re.exec(field.text)) {
      if (m[0].length === 0) {
        r.re.lastIndex++;
        continue;
      }
      if (r.accept && !r.accept(m[0], field.text, m.index)) continue;
      n++;
      const g = r.grade ? r.grade(m[0]) : { severity: r.severity, note: '' };
      hits.push({ rule: r.id, severity: g.severity, where: field.where, span: m[0].trim() || m[0], message: g.note ? r.message + g.note : r.message });
    }
  }
  const carrier = /\.properties\.([^.]+)\.description$/u.exec(field.where)?.[1];
  if (carrier !== undefined && CARRIER_NAME.test(carrier)) {
    const ask = hits.find((h) => h.severity !== 'low' && (h.rule === 'exfiltration/parameter' || h.rule.startsWith('sensitive/') || h.rule.startsWith('hidden-instructions/')));
    if (ask) {
      hits.push({ rule: 'exfiltration/carrier-parameter', severity: 'high', where: field.where, span: ask.span, message: `the parameter "${carrier}" has a carrier name and its description asks the model to fill it with data the tool does not need (in ${field.where})` });
    }
  }
  return hits;
}
