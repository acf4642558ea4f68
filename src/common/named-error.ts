// The base of luasfu's error classes: `name` is the concrete class's name, so logs and
// `instanceof`-free callers (error.name === 'ConfigError') tell failures apart, as
// mediasoup's own error classes do.

/** An Error whose `name` is the name of the class thrown. */
export class NamedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
