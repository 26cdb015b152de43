using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;

namespace Gateway.Benchmarks;

/// <summary>
/// The floor under a JWT's full validation on this machine: verifying one signature over a token-sized input with the
/// framework's crypto (OpenSSL underneath), nothing else. What <see cref="AuthBenchmarks"/> measures above this is the
/// token handler's parsing and checks.
/// </summary>
[MemoryDiagnoser]
public class SignatureFloorBenchmarks
{
    private readonly byte[] _signedPart = Encoding.ASCII.GetBytes(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS0xIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaXNzdWVyLnRlc3QiLCJhdWQiOiJhcGkiLCJleHAiOjE3OTk5OTk5OTl9");
    private RSA _rsa = null!;
    private ECDsa _ecdsa = null!;
    private byte[] _hmacKey = null!;
    private byte[] _rsaSignature = null!;
    private byte[] _ecdsaSignature = null!;
    private byte[] _hmacSignature = null!;

    [GlobalSetup]
    public void Setup()
    {
        _rsa = RSA.Create(2048);
        _rsaSignature = _rsa.SignData(_signedPart, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _ecdsaSignature = _ecdsa.SignData(_signedPart, HashAlgorithmName.SHA256);
        _hmacKey = Encoding.UTF8.GetBytes("an-hs256-secret-of-at-least-32-bytes!");
        _hmacSignature = HMACSHA256.HashData(_hmacKey, _signedPart);
    }

    [Benchmark]
    public bool Rs256() => _rsa.VerifyData(_signedPart, _rsaSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    [Benchmark]
    public bool Es256() => _ecdsa.VerifyData(_signedPart, _ecdsaSignature, HashAlgorithmName.SHA256);

    [Benchmark]
    public bool Hs256() => CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(_hmacKey, _signedPart), _hmacSignature);

    [GlobalCleanup]
    public void Cleanup()
    {
        _rsa.Dispose();
        _ecdsa.Dispose();
    }
}
