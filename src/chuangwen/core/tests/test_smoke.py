def test_login_page_renders(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "登录" in response.content.decode()


def test_home_shows_memberships(client, city):
    client.force_login(city.users["liaison"])
    response = client.get("/")
    assert response.status_code == 200
    assert "东区第一小学" in response.content.decode()
