#!/usr/bin/env node
// The AWS SDK warns on every start that future releases need Node 22; the pinned ones do not.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main, quietOnClosedPipes } = await import('../dist/cli/index.js');

quietOnClosedPipes();
await main();
