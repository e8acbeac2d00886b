/**
 * The small part of node-forge (which ships no types) that src/tls uses to build a self-signed
 * certificate. Keys are made by node:crypto; forge only assembles and signs the X.509 structure.
 */
declare module 'node-forge' {
  export namespace pki {
    interface PublicKey {
      readonly n: unknown;
      readonly e: unknown;
    }
    interface PrivateKey {
      readonly n: unknown;
      readonly e: unknown;
    }
    interface CertificateField {
      name?: string;
      shortName?: string;
      type?: string;
      value: string;
    }
    type AltName = { type: 2; value: string } | { type: 7; ip: string };
    interface Extension {
      name: string;
      critical?: boolean;
      [field: string]: unknown;
    }
    interface Certificate {
      serialNumber: string;
      publicKey: PublicKey;
      validity: { notBefore: Date; notAfter: Date };
      setSubject(attrs: CertificateField[]): void;
      setIssuer(attrs: CertificateField[]): void;
      setExtensions(exts: Extension[]): void;
      sign(key: PrivateKey, md: md.MessageDigest): void;
    }
    function createCertificate(): Certificate;
    function privateKeyFromPem(pem: string): PrivateKey;
    function setRsaPublicKey(n: unknown, e: unknown): PublicKey;
    function certificateToPem(cert: Certificate): string;
  }
  export namespace md {
    interface MessageDigest {
      readonly algorithm: string;
    }
    namespace sha256 {
      function create(): MessageDigest;
    }
  }
  const forge: { pki: typeof pki; md: typeof md };
  export default forge;
}
