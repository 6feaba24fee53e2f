#include "attest/pck_certificate.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <string>

namespace sg::attest {
namespace {

constexpr const char* kSgxExtension = "1.2.840.113741.1.13.1";
const std::string kPrefix = std::string(kSgxExtension) + ".";

void free_sequence(ASN1_SEQUENCE_ANY* s) { sk_ASN1_TYPE_pop_free(s, ASN1_TYPE_free); }
using SequencePtr = std::unique_ptr<ASN1_SEQUENCE_ANY, OpenSslDeleter<free_sequence>>;

crypto::Unexpected<Refusal> bad(const std::string& what) { return refuse("pck_extension", "PCK certificate SGX extension: " + what); }

SequencePtr parse_sequence(const unsigned char* der, long size) {
  const unsigned char* p = der;
  SequencePtr seq(d2i_ASN1_SEQUENCE_ANY(nullptr, &p, size));
  if (seq && p != der + size) seq.reset();
  return seq;
}

std::string oid_text(const ASN1_OBJECT* oid) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, oid, 1);
  return buf;
}

// One {OID, value} pair of the extension: the OID relative to the SGX extension, and the value.
struct Entry {
  std::string oid;   // "2", "2.17", "4", ...
  const ASN1_TYPE* value = nullptr;
};

Result<std::vector<Entry>> entries(const ASN1_SEQUENCE_ANY* seq, std::vector<SequencePtr>& keep) {
  std::vector<Entry> out;
  for (int i = 0; i < sk_ASN1_TYPE_num(seq); ++i) {
    const ASN1_TYPE* item = sk_ASN1_TYPE_value(seq, i);
    if (item->type != V_ASN1_SEQUENCE) return bad("entry " + std::to_string(i) + " is not a SEQUENCE");
    SequencePtr pair = parse_sequence(item->value.sequence->data, item->value.sequence->length);
    if (!pair || sk_ASN1_TYPE_num(pair.get()) != 2 || sk_ASN1_TYPE_value(pair.get(), 0)->type != V_ASN1_OBJECT) {
      return bad("entry " + std::to_string(i) + " is not {OID, value}");
    }
    const std::string oid = oid_text(sk_ASN1_TYPE_value(pair.get(), 0)->value.object);
    if (oid.rfind(kPrefix, 0) != 0) return bad("entry OID " + oid + " is outside " + kSgxExtension);
    out.push_back({oid.substr(kPrefix.size()), sk_ASN1_TYPE_value(pair.get(), 1)});
    keep.push_back(std::move(pair));
  }
  return out;
}

Result<long> integer(const Entry& e) {
  if (e.value->type != V_ASN1_INTEGER) return bad(e.oid + " is not an INTEGER");
  const long v = ASN1_INTEGER_get(e.value->value.integer);
  if (v < 0 || v > 0xFFFF) return bad(e.oid + " = " + std::to_string(v) + " is out of range");
  return v;
}

Result<Bytes> octets(const Entry& e, std::size_t size) {
  if (e.value->type != V_ASN1_OCTET_STRING || std::size_t(e.value->value.octet_string->length) != size) {
    return bad(e.oid + " is not an OCTET STRING of " + std::to_string(size) + " bytes");
  }
  const ASN1_OCTET_STRING* s = e.value->value.octet_string;
  return Bytes(s->data, s->data + s->length);
}

Status read_tcb(const Entry& tcb, PckTcb& out) {
  if (tcb.value->type != V_ASN1_SEQUENCE) return bad("TCB (2) is not a SEQUENCE");
  SequencePtr seq = parse_sequence(tcb.value->value.sequence->data, tcb.value->value.sequence->length);
  if (!seq) return bad("TCB (2) does not parse");
  std::vector<SequencePtr> keep;
  auto items = entries(seq.get(), keep);
  if (!items) return crypto::unexpected(items.error());
  unsigned seen = 0;
  for (const Entry& e : *items) {
    int n = 0;
    if (std::sscanf(e.oid.c_str(), "2.%d", &n) != 1 || n < 1 || n > 18) return bad("unexpected TCB entry " + e.oid);
    if (n == 18) {
      auto cpu = octets(e, 16);
      if (!cpu) return crypto::unexpected(cpu.error());
      out.cpu_svn = std::move(*cpu);
    } else {
      auto v = integer(e);
      if (!v) return crypto::unexpected(v.error());
      if (n == 17) out.pce_svn = uint16_t(*v);
      else if (*v > 0xFF) return bad(e.oid + " (a TCB component SVN) exceeds 255");
      else out.sgx_components[std::size_t(n - 1)] = uint8_t(*v);
    }
    seen |= 1u << n;
  }
  if (seen != 0x7FFFEu) return bad("TCB lacks some of its 16 components, PCESVN or CPUSVN");
  return {};
}

}  // namespace

Result<PckTcb> read_pck_tcb(X509* pck_certificate) {
  ASN1_OBJECT* oid = OBJ_txt2obj(kSgxExtension, 1);
  const int at = X509_get_ext_by_OBJ(pck_certificate, oid, -1);
  ASN1_OBJECT_free(oid);
  if (at < 0) return bad("absent (is this a PCK certificate?)");
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(pck_certificate, at));
  SequencePtr seq = parse_sequence(data->data, data->length);
  if (!seq) return bad("does not parse as a SEQUENCE");
  std::vector<SequencePtr> keep;
  auto items = entries(seq.get(), keep);
  if (!items) return crypto::unexpected(items.error());
  PckTcb out;
  bool have_tcb = false;
  for (const Entry& e : *items) {
    if (e.oid == "2") {
      if (auto st = read_tcb(e, out); !st) return crypto::unexpected(st.error());
      have_tcb = true;
    } else if (e.oid == "3" || e.oid == "4") {
      auto v = octets(e, e.oid == "3" ? 2 : 6);
      if (!v) return crypto::unexpected(v.error());
      (e.oid == "3" ? out.pce_id : out.fmspc) = std::move(*v);
    }
  }
  if (!have_tcb || out.fmspc.empty() || out.pce_id.empty()) return bad("lacks TCB, FMSPC or PCE-ID");
  return out;
}

}  // namespace sg::attest
