/**
 * Benchmark child: Reel's key delivery on the server every Reel process answers with (createHttpServer: error
 * bodies, security headers, logger at warn), over an in-memory ProtectionLookup.
 *   listen KeyFixtures → { url }
 */
import { createHttpServer } from '../../src/control/plugins/http-server.js';
import { registerKeyDelivery } from '../../src/media/keys/key-delivery.js';
import { createLogger } from '../../src/shared/log.js';
import { answerParent } from '../support/bench-child.js';
import { fixtureLookup, type KeyFixtures } from './key-fixtures.js';

let close: (() => Promise<void>) | undefined;

answerParent({
  listen: async (payload) => {
    const app = createHttpServer(createLogger('warn'));
    registerKeyDelivery(app, { lookup: fixtureLookup(payload as KeyFixtures), addressPolicy: { allowPrivate: false } });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    close = () => app.close();
    return { url };
  },
  stop: async () => close?.(),
});
