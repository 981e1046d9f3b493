"""Drives a running emulator with the real Microsoft Graph Python SDKs (msgraph-beta-sdk and
msgraph-sdk, both Kiota-based), the clients the contract says matter most (B.7, B.8).

Every operation of contract A.1 goes through the SDK's own request builders, so this checks what
no Rust test can: that the SDK's URLs resolve, its bodies are accepted, and it parses every answer
(entities, collections, nextLink paging, $count as text/plain, 204s, and the error envelope).

usage: graph_sdk_check.py BASE_URL        (e.g. http://127.0.0.1:8080)
Prints one line per check and a closing 'N passed, N failed' line; exits 1 on any failure.
"""

import asyncio
import datetime
import sys
import traceback

from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter as V1Adapter
from msgraph import GraphServiceClient as V1Client
from msgraph.generated.models.vpp_token import VppToken as V1VppToken
from msgraph_beta import GraphRequestAdapter, GraphServiceClient
from msgraph_beta.generated.device_app_management.vpp_tokens.item.revoke_licenses.revoke_licenses_post_request_body import (
    RevokeLicensesPostRequestBody,
)
from msgraph_beta.generated.device_app_management.vpp_tokens.vpp_tokens_request_builder import (
    VppTokensRequestBuilder,
)
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.vpp_token import VppToken
from msgraph_beta.generated.models.vpp_token_account_type import VppTokenAccountType
from msgraph_beta.generated.models.vpp_token_state import VppTokenState
from msgraph_beta.generated.models.vpp_token_sync_status import VppTokenSyncStatus
from msgraph_core.tasks.page_iterator import PageIterator


class StaticToken(AccessTokenProvider):
    """Any non-empty bearer token satisfies the emulator's default auth mode."""

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return "sdk-check"

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])


def clients(base):
    auth = BaseBearerTokenAuthenticationProvider(StaticToken())
    beta_adapter = GraphRequestAdapter(auth)
    beta_adapter.base_url = f"{base}/beta"
    v1_adapter = V1Adapter(BaseBearerTokenAuthenticationProvider(StaticToken()))
    v1_adapter.base_url = f"{base}/v1.0"
    return GraphServiceClient(request_adapter=beta_adapter), V1Client(request_adapter=v1_adapter), beta_adapter


RESULTS = []


async def check(name, body):
    try:
        await body()
        RESULTS.append(True)
        print(f"ok    {name}")
    except Exception:  # a failed assertion or an SDK that could not parse an answer
        RESULTS.append(False)
        print(f"FAIL  {name}")
        traceback.print_exc(limit=4)


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


async def expect_odata_error(call, status, code):
    try:
        await call
    except ODataError as error:
        expect(error.response_status_code == status, f"status {error.response_status_code}, wanted {status}")
        expect(error.error is not None and error.error.code == code, f"code {error.error and error.error.code}, wanted {code}")
        inner = error.error.inner_error
        expect(inner is not None and inner.request_id, "innerError.request-id parsed")
        expect(isinstance(inner.date, datetime.datetime), f"innerError.date parsed as a date-time: {inner.date!r}")
        return error
    raise AssertionError(f"no error raised, wanted {status} {code}")


async def main(base):
    beta, v1, beta_adapter = clients(base)
    tokens = beta.device_app_management.vpp_tokens
    expires = datetime.datetime(2027, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)
    state = {}

    async def create():
        body = VppToken(
            organization_name="SDK Org",
            apple_id="sdk@example.test",
            display_name="sdk-check",
            token="secret-from-sdk",
            expiration_date_time=expires,
            vpp_token_account_type=VppTokenAccountType.Education,
            state=VppTokenState.Valid,
            role_scope_tag_ids=["0", "7"],
        )
        created = await tokens.post(body)
        expect(created is not None and created.id, "the 201 body parsed into a VppToken with an id")
        expect(created.odata_type == "#microsoft.graph.vppToken", f"@odata.type {created.odata_type}")
        expect(created.expiration_date_time == expires, f"expirationDateTime {created.expiration_date_time}")
        expect(created.state == VppTokenState.Valid, f"state {created.state}")
        expect(created.vpp_token_account_type == VppTokenAccountType.Education, "account type")
        expect(created.last_sync_status == VppTokenSyncStatus.None_, f"lastSyncStatus {created.last_sync_status}")
        expect(created.token is None, "token is write-only")
        expect(created.role_scope_tag_ids == ["0", "7"], f"roleScopeTagIds {created.role_scope_tag_ids}")
        expect(created.last_modified_date_time is not None, "lastModifiedDateTime parsed")
        state["id"] = created.id

    async def get():
        token = await tokens.by_vpp_token_id(state["id"]).get()
        expect(token.display_name == "sdk-check", f"displayName {token.display_name}")
        expect(token.apple_id == "sdk@example.test", "appleId")

    async def get_with_select():
        config = RequestConfiguration(
            query_parameters=VppTokensRequestBuilder.VppTokensRequestBuilderGetQueryParameters(
                select=["displayName", "state"]
            )
        )
        token = await tokens.by_vpp_token_id(state["id"]).get(config)
        expect(token.display_name == "sdk-check" and token.apple_id is None, "only the selected properties")

    async def patch():
        answer = await tokens.by_vpp_token_id(state["id"]).patch(VppToken(display_name="renamed", automatically_update_apps=True))
        expect(answer is None, "PATCH answers 204, which the SDK returns as None")
        token = await tokens.by_vpp_token_id(state["id"]).get()
        expect(token.display_name == "renamed" and token.automatically_update_apps is True, "the change is visible")
        expect(token.organization_name == "SDK Org", "PATCH is partial")

    async def list_and_page():
        for index in range(5):
            await tokens.post(VppToken(display_name=f"page-{index}"))
        config = RequestConfiguration(
            query_parameters=VppTokensRequestBuilder.VppTokensRequestBuilderGetQueryParameters(
                top=2, count=True, orderby=["displayName desc"], filter="startswith(displayName, 'page-')"
            )
        )
        first = await tokens.get(config)
        expect(first.odata_count == 5, f"@odata.count {first.odata_count}")
        expect(len(first.value) == 2 and first.odata_next_link, "a page of 2 with a nextLink")
        seen = []
        iterator = PageIterator(first, beta_adapter)

        def collect(item):
            seen.append(item.display_name)
            return True

        await iterator.iterate(collect)
        expect(seen == [f"page-{i}" for i in (4, 3, 2, 1, 0)], f"the page iterator followed every nextLink: {seen}")

    async def count():
        total = await tokens.count.get()
        expect(total == 6, f"$count {total}")

    async def sync_licenses():
        token = await tokens.by_vpp_token_id(state["id"]).sync_licenses.post()
        expect(token.last_sync_status == VppTokenSyncStatus.Completed, f"lastSyncStatus {token.last_sync_status}")
        expect(token.token_action_results and token.token_action_results[-1].action_name == "syncLicenses", "action result")

    async def revoke_licenses():
        body = RevokeLicensesPostRequestBody(notify_managed_devices=True, revoke_untracked_licenses=False)
        expect(await tokens.by_vpp_token_id(state["id"]).revoke_licenses.post(body) is None, "204")
        token = await tokens.by_vpp_token_id(state["id"]).get()
        last = token.token_action_results[-1]
        expect(type(last).__name__ == "VppTokenRevokeLicensesActionResult", f"derived type parsed: {type(last).__name__}")
        expect(last.action_name == "revokeLicenses", "revoke result recorded")

    async def sync_license_counts():
        expect(await tokens.sync_license_counts.post() is None, "204")

    async def licenses_for_app():
        answer = await tokens.get_licenses_for_app_with_bundle_id("com.example.none").get()
        expect(answer is not None and answer.value == [], f"an empty collection: {answer and answer.value}")

    async def not_found():
        missing = "00000000-0000-4000-8000-000000000000"
        await expect_odata_error(tokens.by_vpp_token_id(missing).get(), 404, "ResourceNotFound")

    async def model_validation():
        body = VppToken(display_name="x")
        body.additional_data = {"notAProperty": 1}
        error = await expect_odata_error(tokens.post(body), 400, "ModelValidationFailure")
        expect("notAProperty" in error.error.message, "the message names the property")

    async def bad_filter():
        config = RequestConfiguration(
            query_parameters=VppTokensRequestBuilder.VppTokensRequestBuilderGetQueryParameters(filter="nope eq 1")
        )
        await expect_odata_error(tokens.get(config), 400, "BadRequest")

    async def v1_round_trip():
        v1_tokens = v1.device_app_management.vpp_tokens
        created = await v1_tokens.post(V1VppToken(organization_name="v1 org", apple_id="v1@example.test"))
        expect(created.organization_name == "v1 org", "v1.0 create parsed")
        fetched = await v1_tokens.by_vpp_token_id(created.id).get()
        expect(fetched.apple_id == "v1@example.test", "v1.0 get parsed")
        expect("displayName" not in (fetched.additional_data or {}), "no beta-only property on v1.0")
        synced = await v1_tokens.by_vpp_token_id(created.id).sync_licenses.post()
        expect(synced.last_sync_status is not None, "v1.0 syncLicenses parsed")
        await v1_tokens.by_vpp_token_id(created.id).delete()

    async def delete():
        expect(await tokens.by_vpp_token_id(state["id"]).delete() is None, "204")
        await expect_odata_error(tokens.by_vpp_token_id(state["id"]).get(), 404, "ResourceNotFound")

    for name, body in [
        ("create parses the 201 entity", create),
        ("get", get),
        ("get with $select", get_with_select),
        ("patch answers 204 and is partial", patch),
        ("list with $filter/$orderby/$top/$count, PageIterator follows nextLink", list_and_page),
        ("$count parses as an integer", count),
        ("syncLicenses returns the entity", sync_licenses),
        ("revokeLicenses records the derived action result", revoke_licenses),
        ("syncLicenseCounts", sync_license_counts),
        ("getLicensesForApp", licenses_for_app),
        ("404 parses as ODataError ResourceNotFound", not_found),
        ("unknown property parses as ODataError ModelValidationFailure", model_validation),
        ("bad $filter parses as ODataError BadRequest", bad_filter),
        ("v1.0 create, get, syncLicenses, delete", v1_round_trip),
        ("delete", delete),
    ]:
        await check(name, body)

    passed = RESULTS.count(True)
    failed = RESULTS.count(False)
    print(f"sdk: {passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(0 if asyncio.run(main(sys.argv[1].rstrip("/"))) else 1)
