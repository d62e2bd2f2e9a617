"""pyHanko's AdES B-LTA validation (ETSI EN 319 102-1 §5.6.3) of every signature of a PDF,
offline: revocation information may come only from the file (DSS, CMS), never fetched.

usage: python3 pyhanko_lta.py PDF ROOT_PEM [UNIX_SECONDS [online]]
The optional time is when to validate (default now): e.g. years later, after the signers' and
the first TSA's certificates expired, to show that the archive timestamps carry the proof.
With `online`, revocation information for what is validated at that time (the newest document
timestamp's chain) may be fetched from the URLs its certificates name — as a validator does
years later; everything older must still be proven from the file alone.
Prints one line per signature: FIELD SUBINDICATION evidence=<oldest document timestamp or none>;
exit 0 only when every signature PASSED and is covered by a validated document timestamp chain.
"""
import asyncio
import sys
from datetime import datetime, timezone

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import ades
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager


def main() -> int:
    pdf, root = sys.argv[1], sys.argv[2]
    timing = None
    fetching = RevinfoOnlineFetchingRule.LOCAL_ONLY
    if len(sys.argv) > 4 and sys.argv[4] == "online":
        fetching = RevinfoOnlineFetchingRule.NO_HISTORICAL_FETCH
    if len(sys.argv) > 3:
        at = datetime.fromtimestamp(int(sys.argv[3]), tz=timezone.utc)
        timing = ValidationTimingInfo(
            validation_time=at, best_signature_time=at, point_in_time_validation=False
        )
    cert_policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[load_cert_from_pemder(root)]),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    spec = PdfSignatureValidationSpec(
        signature_validation_spec=SignatureValidationSpec(
            cert_validation_policy=cert_policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=fetching
            ),
        )
    )
    ok = True
    with open(pdf, "rb") as f:
        r = PdfFileReader(f)
        sigs = list(r.embedded_regular_signatures)
        if not sigs:
            print("no signature")
            return 1
        for s in sigs:
            res = asyncio.run(ades.ades_lta_validation(s, spec, timing_info=timing))
            evidence = res.oldest_evidence_record_timestamp
            print(
                f"{s.field_name} {res.ades_subindic} evidence={evidence} "
                f"{res.failure_msg or ''}".strip()
            )
            passed = isinstance(res.ades_subindic, ades.AdESPassed)
            ok &= passed and evidence is not None
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
