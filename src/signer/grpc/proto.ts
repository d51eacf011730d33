/**
 * notary-signer's gRPC API (N:proto/signer.proto, notary 0.7: package `proto`, services `KeyManagement`
 * and `Signer`) and the standard health service (G:grpc/grpc proto/grpc/health/v1/health.proto), written as a
 * protobufjs JSON descriptor so that no .proto file has to ship beside the code. Field names and
 * numbers are the wire contract: they must match notary's exactly.
 */
import type * as grpc from '@grpc/grpc-js';

/** Health service names notary-server checks (N:cmd/notary-server/config.go, N:signer/rpc_and_grpc.go). */
export const HEALTH_SERVICES = ['grpc.health.v1.Health.KeyManagement', 'grpc.health.v1.Health.Signer'] as const;

const msg = (fields: Record<string, { type: string; id: number; keyType?: string }>) => ({ fields });

export const SIGNER_DESCRIPTOR = {
  nested: {
    proto: {
      nested: {
        KeyManagement: {
          methods: {
            CreateKey: { requestType: 'CreateKeyRequest', responseType: 'PublicKey' },
            DeleteKey: { requestType: 'KeyID', responseType: 'Void' },
            GetKeyInfo: { requestType: 'KeyID', responseType: 'GetKeyInfoResponse' },
          },
        },
        Signer: {
          methods: { Sign: { requestType: 'SignatureRequest', responseType: 'Signature' } },
        },
        CreateKeyRequest: msg({
          algorithm: { type: 'string', id: 1 },
          gun: { type: 'string', id: 2 },
          role: { type: 'string', id: 3 },
        }),
        KeyInfo: msg({ keyID: { type: 'KeyID', id: 1 }, algorithm: { type: 'Algorithm', id: 2 } }),
        KeyID: msg({ ID: { type: 'string', id: 1 } }),
        Algorithm: msg({ algorithm: { type: 'string', id: 1 } }),
        GetKeyInfoResponse: msg({
          keyInfo: { type: 'KeyInfo', id: 1 },
          publicKey: { type: 'bytes', id: 2 },
          role: { type: 'string', id: 3 },
        }),
        PublicKey: msg({ keyInfo: { type: 'KeyInfo', id: 1 }, publicKey: { type: 'bytes', id: 2 } }),
        Signature: msg({
          keyInfo: { type: 'KeyInfo', id: 1 },
          algorithm: { type: 'Algorithm', id: 2 },
          content: { type: 'bytes', id: 3 },
        }),
        SignatureRequest: msg({ keyID: { type: 'KeyID', id: 1 }, content: { type: 'bytes', id: 2 } }),
        Void: msg({}),
      },
    },
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                Health: {
                  methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' } },
                },
                HealthCheckRequest: msg({ service: { type: 'string', id: 1 } }),
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: {
                    ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

// The messages as plain objects (proto-loader with `longs: String, bytes: Buffer, defaults: true`).
export interface KeyIdMsg {
  ID: string;
}
export interface AlgorithmMsg {
  algorithm: string;
}
export interface KeyInfoMsg {
  keyID: KeyIdMsg | null;
  algorithm: AlgorithmMsg | null;
}
export interface CreateKeyRequestMsg {
  algorithm: string;
  gun: string;
  role: string;
}
export interface PublicKeyMsg {
  keyInfo: KeyInfoMsg | null;
  publicKey: Buffer;
}
export interface GetKeyInfoResponseMsg extends PublicKeyMsg {
  role: string;
}
export interface SignatureRequestMsg {
  keyID: KeyIdMsg | null;
  content: Buffer;
}
export interface SignatureMsg {
  keyInfo: KeyInfoMsg | null;
  algorithm: AlgorithmMsg | null;
  content: Buffer;
}
export type HealthStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface SignerServices {
  KeyManagement: grpc.ServiceClientConstructor;
  Signer: grpc.ServiceClientConstructor;
  Health: grpc.ServiceClientConstructor;
}

/** The three service definitions, loaded once (grpc-js and proto-loader are loaded only when a signer is used). */
let loaded: Promise<SignerServices> | undefined;
export function signerServices(): Promise<SignerServices> {
  loaded ??= (async () => {
    const [grpcJs, loader] = await Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]);
    const def = loader.fromJSON(SIGNER_DESCRIPTOR as unknown as Parameters<typeof loader.fromJSON>[0], {
      keepCase: true,
      longs: String,
      enums: String,
      bytes: Buffer,
      defaults: true,
    });
    const pkg = grpcJs.loadPackageDefinition(def) as unknown as {
      proto: { KeyManagement: grpc.ServiceClientConstructor; Signer: grpc.ServiceClientConstructor };
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    return { KeyManagement: pkg.proto.KeyManagement, Signer: pkg.proto.Signer, Health: pkg.grpc.health.v1.Health };
  })();
  return loaded;
}
