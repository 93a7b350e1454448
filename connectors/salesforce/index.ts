/**
 * Salesforce: contacts (and leads) and won opportunities (or activated orders)
 * as a source; a Contact field and one Campaign per segment as a target.
 * Every call goes through jsforce (see client.ts); see README.md for setup.
 */
import { defineConnector } from '../../src/connector/contract.js';
import { salesforceSpec, type SalesforceConfig, type SalesforceTarget } from './config.js';
import { checkSalesforce } from './check.js';
import { contactsStream, transactionsStream } from './streams.js';
import { salesforceWriter } from './writer.js';

export default defineConnector<SalesforceConfig, SalesforceTarget>({
  ...salesforceSpec,
  check: (ctx) => checkSalesforce(ctx),
  streams: {
    contacts: contactsStream,
    transactions: transactionsStream,
  },
  writer: salesforceWriter,
});

export { checkSalesforce } from './check.js';
export type { SalesforceConfig, SalesforceTarget } from './config.js';
