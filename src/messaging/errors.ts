/**
 * Messaging failures as types, mapped once where the STOMP client reports them (publisher.ts): the
 * announcer picks the condition's reason by class, never by message text.
 */

/** MessagingError is any failure to get a message confirmed by the broker. */
export class MessagingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** BrokerUnavailableError: no broker connection (none reachable, or the connection was lost). */
export class BrokerUnavailableError extends MessagingError {}
/** BrokerRefusedError: the broker answered CONNECT with an ERROR frame, such as wrong credentials. */
export class BrokerRefusedError extends MessagingError {}
/** SendRejectedError: the broker answered a SEND with an ERROR frame, such as a forbidden destination. */
export class SendRejectedError extends MessagingError {}
/** ReceiptTimeoutError: the broker did not confirm a message in time; it may or may not have stored it. */
export class ReceiptTimeoutError extends MessagingError {}
/** PublisherClosedError: the operator is shutting down. */
export class PublisherClosedError extends MessagingError {}

/** ReasonOf is the Announced condition's reason for a failure. */
export function reasonOf(err: unknown): string {
  if (err instanceof BrokerRefusedError) return "BrokerRefused";
  if (err instanceof SendRejectedError) return "SendRejected";
  if (err instanceof ReceiptTimeoutError) return "ReceiptTimeout";
  if (err instanceof BrokerUnavailableError || err instanceof PublisherClosedError)
    return "BrokerUnavailable";
  return "DeliveryFailed";
}
